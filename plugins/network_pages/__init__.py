"""network_pages: pages for the collaboration networks in content/networks/*.yaml.

* The files are read by the network model, :mod:`core.networks` (the package networks/ at
  the top of the project, shared with the form service; the schema is network.schema.json).
* :mod:`network_pages.plugin` is the Pelican plugin: pages per network and language, an
  overview, networks.json, JSON-LD, ``networks:`` post metadata and ``{network}`` links.

Settings (all optional): NETWORKS_PATH, NETWORKS_LATEST_POSTS, NETWORKS_INDEX_TEMPLATE,
NETWORKS_PAGE_TEMPLATE, NETWORKS_JSON_SAVE_AS, NETWORKS_THANK_YOU_PAGE,
NETWORKS_PRIVACY_PAGE; plus FORM_ENDPOINT (``...{slug}``). See network_pages.plugin.DEFAULTS.
"""


def register():
    # Imported here, not at the top: importing the package must not import Pelican.
    from .plugin import register as _register

    _register()
