"""The plugin's settings are checked at start-up, with ``networks:`` messages."""

import pytest

from network_pages.plugin import DEFAULTS, URL_DEFAULTS, NetworksSettingsError, validate_settings


def settings(**changes):
    s = {**DEFAULTS, **URL_DEFAULTS, "FORM_ENDPOINT": "http://127.0.0.1:8080/join/{slug}"}
    s.update(changes)
    return s


def test_the_defaults_and_the_site_settings_are_valid():
    validate_settings(settings())
    from pelican.settings import read_settings

    from tests.support import ROOT

    for name in ("pelicanconf.py", "publishconf.py"):
        site = read_settings(str(ROOT / name))
        validate_settings({**DEFAULTS, **URL_DEFAULTS, **site})


@pytest.mark.parametrize("changes, message", [
    ({"NETWORKS_LATEST_POSTS": "3"}, "networks: NETWORKS_LATEST_POSTS must be a whole number of 0 or more (got '3')"),
    ({"NETWORKS_LATEST_POSTS": -1}, "networks: NETWORKS_LATEST_POSTS must be a whole number of 0 or more (got -1)"),
    ({"NETWORKS_LATEST_POSTS": True}, "networks: NETWORKS_LATEST_POSTS must be a whole number of 0 or more (got True)"),
    ({"NETWORKS_PATH": "/srv/networks"}, "networks: NETWORKS_PATH must be a directory relative to PATH"),
    ({"NETWORKS_PATH": "../networks"}, "networks: NETWORKS_PATH must be a directory relative to PATH"),
    ({"NETWORKS_PATH": ""}, "networks: NETWORKS_PATH must be a directory relative to PATH"),
    ({"NETWORKS_JSON_SAVE_AS": "networks.txt"}, "networks: NETWORKS_JSON_SAVE_AS must be a relative path ending in .json"),
    ({"NETWORKS_PAGE_TEMPLATE": ""}, "networks: NETWORKS_PAGE_TEMPLATE must be a non-empty string"),
    ({"NETWORKS_LATESTPOSTS": 3}, "networks: unknown setting NETWORKS_LATESTPOSTS (did you mean 'NETWORKS_LATEST_POSTS'?)"),
    ({"FORM_ENDPOINT": "http://127.0.0.1:8080/join/"}, "networks: FORM_ENDPOINT must be an http(s) URL with {slug} in it"),
    ({"FORM_ENDPOINT": "ftp://example.org/{slug}"}, "networks: FORM_ENDPOINT must be an http(s) URL with {slug} in it"),
    ({"FORM_ENDPOINT": "https://example.org/{slug}/{lang}"}, "networks: FORM_ENDPOINT must be an http(s) URL with {slug} in it"),
    ({"FORM_ENDPOINT": None}, "networks: FORM_ENDPOINT must be an http(s) URL with {slug} in it"),
])
def test_a_bad_setting_is_refused_with_a_networks_message(changes, message):
    with pytest.raises(NetworksSettingsError) as e:
        validate_settings(settings(**changes))
    assert str(e.value).startswith(message)


def test_json_output_can_be_switched_off():
    validate_settings(settings(NETWORKS_JSON_SAVE_AS=""))
    validate_settings(settings(NETWORKS_LATEST_POSTS=0))
