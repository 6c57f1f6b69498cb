"""networks: collaboration networks from content/networks/*.yaml.

* :mod:`networks.model` is the one loader and validator of the network files (no Pelican
  import: the form service uses it as well); the schema is network.schema.json.
* :mod:`networks.plugin` is the Pelican plugin: pages per network and language, an
  overview, networks.json, JSON-LD, ``networks:`` post metadata and ``{network}`` links.

Settings (all optional): NETWORKS_PATH, NETWORKS_LATEST_POSTS, NETWORKS_INDEX_TEMPLATE,
NETWORKS_PAGE_TEMPLATE, NETWORKS_JSON_SAVE_AS, NETWORKS_THANK_YOU_PAGE,
NETWORKS_PRIVACY_PAGE; plus FORM_ENDPOINT (``...{slug}``). See networks.plugin.DEFAULTS.
"""


def register():
    # Imported here, not at the top: `import networks.model` must not import Pelican.
    from .plugin import register as _register

    _register()
