"""Every page can be shared with a picture: a page with a picture of its own keeps it
(tests/test_images.py), every other page gets a share card made at build time (plugins/images/
cards.py): 1200×630, at most 100 KB, in its own language, cached by content hash. Posts carry
the picture in their JSON-LD, the home pages an Organization and a WebSite."""

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import lxml.html
import pytest
from PIL import Image

from sitebuild.build import build_site
from tests.support import copy_site


def meta(doc, name):
    found = doc.xpath(f"//meta[@property='{name}' or @name='{name}']/@content")
    return found[0] if found else None


def shared_file(site, doc):
    return site / urlsplit(meta(doc, "og:image")).path.lstrip("/")


def pages(site):
    return [p for p in site.rglob("*.html") if "admin" not in p.parts and "drafts" not in p.parts]


def test_every_page_has_a_share_picture_of_1200_by_630_under_100_kb(site):
    seen = {}
    for page in pages(site):
        doc = lxml.html.fromstring(page.read_bytes())
        shown = page.relative_to(site)
        assert meta(doc, "og:image"), f"{shown}: no og:image"
        assert (meta(doc, "og:image:width"), meta(doc, "og:image:height")) == ("1200", "630"), shown
        assert meta(doc, "og:image:alt"), shown
        assert meta(doc, "twitter:card") == "summary_large_image", shown
        picture = shared_file(site, doc)
        assert picture.is_file(), f"{shown}: {picture} is not in the output"
        assert picture.stat().st_size <= 100_000, f"{picture.name}: {picture.stat().st_size} bytes"
        with Image.open(picture) as im:
            assert im.size == (1200, 630) and im.format == "JPEG", picture
        seen[str(shown)] = picture.name
    assert len(seen) > 30
    # A card is the page's own: the Dutch and the English home page, two posts, differ.
    assert seen["index.html"] != seen["en/index.html"]
    assert len(set(seen.values())) > len(seen) * 0.6


def test_a_network_card_names_the_network_and_a_post_carries_it_in_its_json_ld(site):
    network = lxml.html.fromstring((site / "netwerken/suspacc/index.html").read_bytes())
    assert meta(network, "og:image:alt").startswith("KNN Advies: SUSPACC")
    assert "/cards/suspacc-" in meta(network, "og:image")
    post = lxml.html.fromstring((site / "blog/de-kracht-van-samenwerken/index.html").read_bytes())
    [posting] = [json.loads(s) for s in post.xpath("//script[@type='application/ld+json']/text()")
                 if json.loads(s).get("@type") == "BlogPosting"]
    assert posting["image"]["url"] == meta(post, "og:image") and posting["image"]["width"] == 1200


@pytest.mark.parametrize("home, lang", [("index.html", "nl"), ("en/index.html", "en")])
def test_the_home_pages_say_who_publishes_the_site(site, home, lang):
    doc = lxml.html.fromstring((site / home).read_bytes())
    graphs = [json.loads(s) for s in doc.xpath("//script[@type='application/ld+json']/text()")]
    [graph] = [g["@graph"] for g in graphs if "@graph" in g]
    types = {node["@type"]: node for node in graph}
    assert types["Organization"]["name"] == "KNN Advies" and types["Organization"]["url"].endswith("/")
    assert types["WebSite"]["inLanguage"] == lang
    assert types["WebSite"]["publisher"] == {"@id": types["Organization"]["@id"]}


def test_cards_are_made_once_and_a_new_title_makes_one_card(tmp_path):
    """Cached by content hash: a second build makes no card again; a post with a new title makes
    one new card, and nothing else is redrawn."""
    root = copy_site(tmp_path / "site")
    build = lambda: build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,  # noqa: E731
                               force=True)
    build()
    made = {p.parent.name: p.stat().st_mtime_ns for p in (root / "cache-images").glob("card-*/card.jpg")}
    assert len(made) > 20
    build()
    again = {p.parent.name: p.stat().st_mtime_ns for p in (root / "cache-images").glob("card-*/card.jpg")}
    assert again == made
    post = root / "content/blog/kracht-van-samenwerken.nl.md"
    post.write_text(post.read_text(encoding="utf-8").replace("title: De kracht van samenwerken",
                                                             "title: De kracht van het samenwerken"), encoding="utf-8")
    os.utime(post)
    build()
    after = {p.parent.name: p.stat().st_mtime_ns for p in (root / "cache-images").glob("card-*/card.jpg")}
    new = set(after) - set(made)
    assert len(new) == 1, new
    assert {k: v for k, v in after.items() if k in made} == made
    assert any(Path(p).name.startswith("de-kracht-van-het-samenwerken.") for p in (root / "output/cards").iterdir())
