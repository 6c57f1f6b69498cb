"""The network model: content/networks/*.yaml read, validated and typed, one way for everyone.

* :mod:`core.networks` loads and validates the network files (``load_networks``) against
  ``network.schema.json`` (JSON Schema 2020-12) plus the checks a schema cannot express,
  and reports every problem as ``file:line:col: field: message``.

Used by the Pelican plugin that writes the network pages (plugins/network_pages), by the
form service (formservice/registry.py) and by the editors' tools. It imports nothing from
Pelican or plugins/, so the form service installs without them.
"""
