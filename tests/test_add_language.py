"""Adding a language is configuration plus a catalogue (and content), never code.

Builds a copy of the site with German added: one LANGUAGES entry in the settings, a
catalogue made with Babel from messages.pot, German texts in the network files and a
German home page. No file under plugins/ or theme/templates/ changes.
"""

import hashlib

import lxml.html
import pytest
import yaml
from babel.messages.pofile import read_po, write_po

from sitebuild.build import build_site
from sitebuild.errors import BuildFailed
from tests.conftest import read
from tests.support import ROOT, copy_site

GERMAN = {
    "Skip to content": "Zum Inhalt springen",
    "Main navigation": "Hauptnavigation",
    "Home": "Startseite",
    "Latest posts": "Neueste Beiträge",
    "All posts": "Alle Beiträge",
    "Language": "Sprache",
    "Networks": "Netzwerke",
}
SETTINGS = '''
LANGUAGES["de"] = {
    "name": "Deutsch",
    "prefix": "de",
    "words": {"blog": "blog", "tag": "schlagwort", "author": "autor", "category": "kategorie",
              "page": "seite", "networks": "netzwerke", "archive": "archiv"},
}
'''
HOME = """title: Zusammenarbeit, die funktioniert
slug: home
translation_key: home
lang: de
url: de/
save_as: de/index.html
template: home
summary: KNN Advies in Groningen gründet und begleitet Kooperationsnetzwerke.

KNN Advies ist ein Beratungsbüro in Groningen.
"""


def add_german_texts(node):
    """Every {nl, en} text in a network file gets a German version (here: marked English)."""
    if isinstance(node, dict):
        if set(node) >= {"nl", "en"} and all(isinstance(v, str) for v in node.values()):
            node["de"] = f"[de] {node['en']}"
        for value in node.values():
            add_german_texts(value)
    elif isinstance(node, list):
        for value in node:
            add_german_texts(value)


def tree_digest(*dirs):
    h = hashlib.sha256()
    for d in dirs:
        for p in sorted(d.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.relative_to(d).as_posix().encode() + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def german_site(tmp_path_factory):
    root = copy_site(tmp_path_factory.mktemp("german"))
    code_before = tree_digest(root / "plugins", root / "theme" / "templates")
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(SETTINGS)
    with open(root / "theme/translations/messages.pot", "rb") as f:
        catalog = read_po(f, locale="de")
    for message in catalog:
        if message.id in GERMAN:
            message.string = GERMAN[message.id]
    po = root / "theme/translations/de/LC_MESSAGES/messages.po"
    po.parent.mkdir(parents=True)
    with open(po, "wb") as f:
        write_po(f, catalog)
    for network in (root / "content/networks").glob("*.yaml"):
        data = yaml.safe_load(network.read_text(encoding="utf-8"))
        add_german_texts(data)
        network.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (root / "content/pages/de").mkdir()
    (root / "content/pages/de/home.md").write_text(HOME, encoding="utf-8")
    build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)
    assert tree_digest(root / "plugins", root / "theme" / "templates") == code_before
    return root / "output"


def test_german_tree_exists_with_german_interface_text(german_site):
    home = lxml.html.fromstring(read(german_site / "de/index.html"))
    assert home.get("lang") == "de"
    text = home.text_content()
    for word in ("Zum Inhalt springen", "Neueste Beiträge", "Alle Beiträge"):
        assert word in text
    assert home.xpath("//nav[@aria-label='Hauptnavigation']")
    assert (german_site / "de/blog/index.html").exists()
    assert (german_site / "de/netzwerke/suspacc/index.html").exists()


def test_german_dates_and_untranslated_posts(german_site):
    listing = lxml.html.fromstring(read(german_site / "de/blog/index.html"))
    link = listing.xpath("//article//h2/a[@href='/blog/de-kracht-van-samenwerken/']")
    assert link and link[0].get("hreflang") == "nl"
    assert "4. März 2019" in listing.text_content()


def test_other_languages_point_to_german(german_site):
    nl_home = lxml.html.fromstring(read(german_site / "index.html"))
    alts = dict((a.get("hreflang"), a.get("href")) for a in nl_home.xpath("//link[@hreflang]"))
    assert alts["de"] == "/de/"
    network = lxml.html.fromstring(read(german_site / "netwerken/suspacc/index.html"))
    assert "/de/netzwerke/suspacc/" in network.xpath("//link[@hreflang='de']/@href")


def test_a_language_without_a_home_page_is_a_clear_error(tmp_path):
    root = copy_site(tmp_path / "site")
    with open(root / "pelicanconf.py", "a", encoding="utf-8") as f:
        f.write(SETTINGS)
    po = root / "theme/translations/de/LC_MESSAGES/messages.po"
    po.parent.mkdir(parents=True)
    po.write_bytes((root / "theme/translations/en/LC_MESSAGES/messages.po").read_bytes())
    with pytest.raises(BuildFailed) as e:
        build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root)
    assert "de" in e.value.errors
