"""Pictures as editors add them (issue 20): phone photos planted in a copy of the real site, a
real build, and what a visitor and a search engine or messenger get.

The photos are made here with Pillow, as a phone saves them: a 4032×3024 JPEG stored sideways
with EXIF orientation 6 and a GPS position, and a HEIC with the same tags. A red block marks the
stored picture's top-left corner; turned upright (90° clockwise) it must be at the top right.
"""

import functools
import json
import re
import shutil
import time
from urllib.parse import urlsplit

import lxml.html
import pytest
from PIL import Image, ImageDraw
from PIL.ExifTags import IFD, Base

from bench.images import phone_photo
from sitebuild.build import build_site
from tests.browser import chromium
from publishing.sitewide import headers_for
from tests.support import copy_site, serve_static

pillow_heif = pytest.importorskip("pillow_heif")
pillow_heif.register_heif_opener()

POST = """---
title: Foto's van de bijeenkomst
slug: fotos-van-de-bijeenkomst
translation_key: fotos-bijeenkomst
lang: nl
date: 2024-05-03
image: "{static}/images/bijeenkomst.jpg"
image_alt: Deelnemers van SUSPACC op de bijeenkomst
summary: Een verslag met foto's.
---

![Deelnemers van SUSPACC op de bijeenkomst]({static}/images/bijeenkomst.jpg)

""" + "Een alinea tekst over de bijeenkomst, lang genoeg om de tweede foto onder de vouw te zetten.\n\n" * 30 + """
![Het veld tijdens de velddag](/images/velddag.heic)

[De foto in het groot](/images/bijeenkomst.jpg)

[Via static]({static}/images/bijeenkomst.jpg), [relatief](../../images/bijeenkomst.jpg#boven),
[naar een pagina](/netwerken/suspacc/)
"""

#: A post without image: its first picture is shared.
POST_FIRST = """---
title: Zonder kopfoto
slug: zonder-kopfoto
translation_key: zonder-kopfoto
lang: nl
date: 2024-05-04
summary: De eerste foto wordt gedeeld.
---

Tekst.

![Het veld tijdens de velddag](/images/velddag.heic)
"""

#: A picture named as a phone or a colleague names it: a space and capitals (the link encodes the space).
POST_SPACES = """---
title: Kick-off in Emmen
slug: kick-off-in-emmen
translation_key: kick-off-emmen
lang: nl
date: 2024-05-05
image: "{static}/images/Kick-off%20Emmen.JPG"
image_alt: De kick-off in Emmen
summary: Een foto met een spatie en hoofdletters in haar naam.
---

![De kick-off in Emmen](/images/Kick-off%20Emmen.JPG)

[De foto in het groot](/images/Kick-off%20Emmen.JPG)
"""

PAGE = "/blog/fotos-van-de-bijeenkomst/"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    root = copy_site(tmp_path_factory.mktemp("images-site"))
    images = root / "content" / "images"
    images.mkdir(exist_ok=True)
    im, exif = phone_photo()
    im.save(images / "bijeenkomst.jpg", "JPEG", quality=92, exif=exif)
    im2, exif2 = phone_photo(2016, 1512, seed=2)
    # pillow-heif writes as the HEIF standard wants: it turns the pixels by the orientation and
    # stores 1 (a phone writes an irot box instead, which libheif applies when reading). GPS stays.
    im2.info["exif"] = exif2.tobytes()
    im2.save(images / "velddag.heic", "HEIF", quality=80)
    logo = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
    ImageDraw.Draw(logo).ellipse([20, 20, 280, 280], fill=(20, 110, 60, 255))
    logo.save(images / "logo-suspacc.png")
    network = root / "content" / "networks" / "suspacc.yaml"
    network.write_text(network.read_text(encoding="utf-8") + "logo: images/logo-suspacc.png\n", encoding="utf-8")
    (root / "content" / "blog" / "fotos-bijeenkomst.nl.md").write_text(POST, encoding="utf-8")
    (root / "content" / "blog" / "zonder-kopfoto.nl.md").write_text(POST_FIRST, encoding="utf-8")
    shutil.copy2(images / "bijeenkomst.jpg", images / "Kick-off Emmen.JPG")
    (root / "content" / "blog" / "kick-off-emmen.nl.md").write_text(POST_SPACES, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def built(photos):
    output = photos / "output"
    build_site(settings_file=photos / "pelicanconf.py", output=output, cwd=photos, capture=True)
    return output


def test_the_planted_photos_are_what_a_phone_makes(photos):
    """Guards the test itself: the originals carry GPS and a camera; the JPEG is stored sideways
    with orientation 6, the HEIC is a HEIC (its orientation is in the container, see photos())."""
    with Image.open(photos / "content" / "images" / "bijeenkomst.jpg") as im:
        assert im.getexif().get(Base.Orientation) == 6 and im.width > im.height
        assert im.getexif().get_ifd(IFD.GPSInfo)
    raw = (photos / "content" / "images" / "velddag.heic").read_bytes()
    assert raw[4:12] == b"ftypheic"
    with Image.open(photos / "content" / "images" / "velddag.heic") as im:
        assert im.format == "HEIF" and im.getexif().get_ifd(IFD.GPSInfo) and im.getexif().get(Base.Make) == "Telefoon"


def _page(built, path=PAGE):
    return lxml.html.fromstring((built / path.lstrip("/") / "index.html").read_bytes())


def test_originals_are_not_published_and_no_file_carries_metadata(built):
    images = sorted((built / "images").iterdir())
    names = [p.name for p in images]
    assert "bijeenkomst.jpg" not in names and "velddag.heic" not in names
    assert {p.suffix for p in images} == {".avif", ".webp", ".jpg", ".png"}  # PNG: the logo, transparent
    for path in images:
        data = path.read_bytes()
        with Image.open(path) as im:
            assert not im.getexif(), path.name
            assert not im.info.get("exif") and not im.info.get("xmp") and not im.info.get("icc_profile"), path.name
        assert b"Exif\0\0" not in data and b"GPS" not in data and b"Telefoon" not in data, path.name


def test_every_photo_is_upright_in_every_file(built):
    """The red block of the stored top-left corner is, turned upright, at the top right."""
    for path in sorted((built / "images").iterdir()):
        if path.name.startswith("logo-"):
            continue
        with Image.open(path) as im:
            im = im.convert("RGB")
            if ".og." in path.name:
                assert im.size == (1200, 630)
                continue
            assert im.height > im.width, f"{path.name} is {im.size}: not upright"
            top_right = im.getpixel((im.width - 3, 3))
            top_left = im.getpixel((3, 3))
            assert top_right[0] > 200 and top_right[1] < 60 and top_right[2] < 60, (path.name, top_right)
            assert top_left != top_right


def test_widths_are_never_wider_than_the_original(built):
    widths = {int(m.group(1)) for p in (built / "images").iterdir()
              if (m := re.match(r"velddag\.\w+\.(\d+)\.", p.name))}
    assert widths == {480, 800, 1200, 1512}  # the HEIC is 1512 wide upright
    widths = {int(m.group(1)) for p in (built / "images").iterdir()
              if (m := re.match(r"bijeenkomst\.\w+\.(\d+)\.", p.name))}
    assert widths == {480, 800, 1200, 1600}


def test_the_page_has_picture_markup_with_size_alt_and_lazy_loading(built):
    doc = _page(built)
    pictures = doc.cssselect(".prose picture")
    assert len(pictures) == 2
    for picture, alt, lazy in zip(pictures, ["Deelnemers van SUSPACC op de bijeenkomst",
                                             "Het veld tijdens de velddag"], [False, True]):
        types = [s.get("type") for s in picture.cssselect("source")]
        assert types == ["image/avif", "image/webp"]
        img = picture.cssselect("img")[0]
        assert img.get("alt") == alt
        w, h = int(img.get("width")), int(img.get("height"))
        assert abs(w / h - 3024 / 4032) < 0.01  # the upright picture's shape
        assert (img.get("loading") == "lazy") is lazy
        assert img.get("decoding") == "async"
        for candidate in [img.get("src"), *[c.split()[0] for s in picture.cssselect("source")
                                             for c in s.get("srcset").split(",")]]:
            assert (built / candidate.lstrip("/")).is_file(), candidate
    links = {a.text_content().replace("\xa0", " "): a.get("href") for a in doc.cssselect(".prose a")}
    for text in ("De foto in het groot", "Via static", "relatief"):  # a link to the picture, as editors write one
        assert re.fullmatch(r"/images/bijeenkomst\.\w{10}\.1600\.jpg", links[text]), (text, links[text])
    assert links["naar een pagina"] == "/netwerken/suspacc/"
    assert not doc.cssselect('img[src$=".heic"], img[src$="bijeenkomst.jpg"]')


def _meta(doc, prop):
    found = doc.cssselect(f'meta[property="{prop}"], meta[name="{prop}"]')
    return found[0].get("content") if found else None


def test_shared_links_show_the_posts_picture(built):
    doc = _page(built)
    url = _meta(doc, "og:image")
    assert re.fullmatch(r"https://www\.knnadvies\.nl/images/bijeenkomst\.\w{10}\.og\.jpg", url), url
    with Image.open(built / url.split("knnadvies.nl/", 1)[1]) as im:
        assert im.size == (1200, 630)
    assert (_meta(doc, "og:image:width"), _meta(doc, "og:image:height")) == ("1200", "630")
    assert _meta(doc, "og:image:alt") == "Deelnemers van SUSPACC op de bijeenkomst"
    assert _meta(doc, "twitter:card") == "summary_large_image"
    posting = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    assert posting["image"]["url"] == url
    # Without image: the first picture of the text, with its alt text.
    doc = _page(built, "/blog/zonder-kopfoto/")
    assert re.search(r"/images/velddag\.\w{10}\.og\.jpg$", _meta(doc, "og:image"))
    assert _meta(doc, "og:image:alt") == "Het veld tijdens de velddag"
    # A page without a picture (and no IMAGES_OG_DEFAULT): its share card (tests/test_share_cards.py).
    doc = _page(built, "/over-ons/")
    assert re.search(r"/cards/over-ons\.\w{10}\.og\.jpg$", _meta(doc, "og:image"))
    assert _meta(doc, "twitter:card") == "summary_large_image"


def test_a_networks_raster_logo_is_a_picture_too(built):
    doc = _page(built, "/netwerken/suspacc/")
    picture = doc.cssselect("picture")[0]
    img = picture.cssselect("img.network-logo")[0]
    assert img.get("src").endswith(".png") and (int(img.get("width")), int(img.get("height"))) == (900, 300)
    assert img.get("alt") == "Logo van SUSPACC"
    with Image.open(built / img.get("src").lstrip("/")) as im:
        assert im.mode == "RGBA" and im.getpixel((0, 0))[3] == 0  # transparency kept in the PNG fallback
    organization = json.loads(doc.cssselect('script[type="application/ld+json"]')[0].text)
    assert (built / urlsplit(organization["logo"]).path.lstrip("/")).is_file(), organization["logo"]
    listed = {n["slug"]: n for n in json.loads((built / "networks.json").read_text(encoding="utf-8"))["networks"]}
    assert (built / urlsplit(listed["suspacc"]["logo"]).path.lstrip("/")).is_file()
    assert not (built / "images" / "logo-suspacc.png").exists()


def _cache_state(root):
    return {p.relative_to(root).as_posix(): p.stat().st_mtime_ns
            for p in (root / "cache-images").rglob("*") if p.is_file()}


def test_a_rebuild_after_an_unrelated_edit_makes_no_picture_again(photos, built):
    before = _cache_state(photos)
    assert len([k for k in before if k.endswith("meta.json")]) == 3
    out_before = {p.name: p.read_bytes() for p in (built / "images").iterdir()}
    post = photos / "content" / "blog" / "zonder-kopfoto.nl.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nEen nieuwezin erbij.\n", encoding="utf-8")
    t = time.monotonic()
    runs = build_site(settings_file=photos / "pelicanconf.py", output=built, cwd=photos, capture=True)
    assert runs, "the edit should have rebuilt"
    assert time.monotonic() - t < 30
    assert _cache_state(photos) == before  # nothing encoded, nothing rewritten
    assert {p.name: p.read_bytes() for p in (built / "images").iterdir()} == out_before
    assert "nieuwezin" in (built / "blog" / "zonder-kopfoto" / "index.html").read_text(encoding="utf-8")


def test_a_build_removes_cached_pictures_no_build_used_for_a_month(photos, built):
    """IMAGES_CACHE_DAYS (30): an entry of a deleted or changed picture goes once no build used
    it for that long; one the build uses stays whatever its age, a recent one stays, and what an
    interrupted encoding left (a day old) goes."""
    import os

    cache = photos / "cache-images"
    used = sorted(p.parent for p in cache.glob("*/meta.json"))
    month_ago = time.time() - 31 * 86400
    planted = {"gone": cache / ("0" * 20), "recent": cache / ("1" * 20), "tmp": cache / f"{'2' * 20}.tmp-999"}
    for path in planted.values():
        path.mkdir()
        (path / "meta.json").write_text("{}", encoding="utf-8")
    for path in [planted["gone"], planted["tmp"], *used]:
        os.utime(path, (month_ago, month_ago))
    os.utime(planted["recent"], (time.time() - 29 * 86400,) * 2)
    post = photos / "content" / "blog" / "zonder-kopfoto.nl.md"
    post.write_text(post.read_text(encoding="utf-8") + "\nNog een zin.\n", encoding="utf-8")
    assert build_site(settings_file=photos / "pelicanconf.py", output=built, cwd=photos, capture=True)
    assert not planted["gone"].exists() and not planted["tmp"].exists()
    assert planted["recent"].exists()
    assert all(p.exists() and p.stat().st_mtime > month_ago + 86400 for p in used), "used entries are kept, their use noted"
    assert len(used) == 3


def test_the_page_is_valid_html(built):
    from tests.test_html_valid import run_vnu

    messages = run_vnu([built / "blog" / "fotos-van-de-bijeenkomst" / "index.html",
                        built / "blog" / "zonder-kopfoto" / "index.html"])
    errors = [m for m in messages if m.get("type") == "error" or m.get("subType") == "fatal"]
    assert not errors, "\n".join(f"{m.get('lastLine')}: {m.get('message')}" for m in errors)


# --- in Chromium ---------------------------------------------------------------------------

MEASURE = """
window.__cls = 0; window.__csp = [];
new PerformanceObserver(list => { for (const e of list.getEntries()) if (!e.hadRecentInput) window.__cls += e.value; })
  .observe({type: 'layout-shift', buffered: true});
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _slow_pictures(site, path):
    """The site's own headers; each picture arrives 400 ms late, so an unsized one would shift the text."""
    if "/images/" in path:
        time.sleep(0.4)
    return headers_for(site / "_headers", path)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _visit(browser, url, width, scale, strip_sizes=False):
    context = browser.new_context(viewport={"width": width, "height": 844 if width < 500 else 900},
                                  device_scale_factor=scale)
    context.add_init_script(MEASURE)
    page = context.new_page()
    if strip_sizes:  # the control: the same page without width and height on its pictures
        def route(route):
            response = route.fetch()
            body = re.sub(r' (width|height)="\d+"', "", response.text())
            route.fulfill(response=response, body=body)
        page.route(re.compile(r".*/fotos-van-de-bijeenkomst/$"), route)
    loaded = {}

    def on_response(response):
        if "/images/" in response.url and "/theme/" not in response.url:
            loaded[response.url.rsplit("/", 1)[1]] = len(response.body())

    page.on("response", on_response)
    page.goto(url + PAGE)
    page.wait_for_load_state("networkidle")
    first = page.evaluate("document.querySelector('.prose img').currentSrc")
    for _ in range(12):  # scroll down as a reader does: the lazy picture loads on the way
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(150)
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)
    result = page.evaluate("""() => ({cls: window.__cls, csp: window.__csp,
        imgs: [...document.querySelectorAll('.prose img')].map(i => ({src: i.currentSrc, w: i.naturalWidth,
          h: i.naturalHeight, shown: i.getBoundingClientRect().width, done: i.complete}))})""")
    context.close()
    return first, loaded, result


@pytest.mark.browser
@pytest.mark.parametrize("width,scale,expect", [(390, 3, 1200), (1280, 1, 800)])
def test_in_chromium_the_right_file_is_loaded_light_upright_and_without_layout_shift(browser, built, width,
                                                                                      scale, expect):
    with serve_static(built, functools.partial(_slow_pictures, built)) as url:
        first, loaded, result = _visit(browser, url, width, scale)
    assert re.search(rf"/bijeenkomst\.\w{{10}}\.{expect}\.avif$", first), first  # AVIF, the width the screen needs
    assert all(i["done"] and i["h"] > i["w"] for i in result["imgs"]), result["imgs"]  # shown upright
    assert all(n.endswith(".avif") for n in loaded), loaded  # Chromium never needs the WebP or JPEG
    assert len(loaded) == 2, loaded  # one file per picture, the originals never
    assert sum(loaded.values()) < 400_000, loaded  # a few hundred kilobytes for both photos
    assert result["cls"] == 0, result["cls"]
    assert result["csp"] == []


@pytest.mark.browser
def test_the_layout_shift_measurement_can_fail(browser, built):
    """The control: without width and height the late pictures push the text down."""
    with serve_static(built, functools.partial(_slow_pictures, built)) as url:
        _, _, result = _visit(browser, url, 390, 3, strip_sizes=True)
    assert result["cls"] > 0.05, result["cls"]


# --- an editor's mistakes, as check and build print them ----------------------------------

MISTAKES = """---
title: Fouten met foto's
slug: fouten-met-fotos
translation_key: fouten-met-fotos
lang: nl
date: 2024-05-05
image: /images/bestaat-niet.jpg
image_alt: Iets
summary: Fouten.
---

![](/images/goed.jpg)

![Een kapot bestand](/images/kapot.jpg)

![Te groot](/images/te-groot.png)

![Weg]({static}/images/weg.jpg)
"""


def test_picture_mistakes_are_one_line_each_in_check_and_build(tmp_path):
    from tests.test_editor_mistakes import invoke, planted_site

    # The share picture as the browser editor writes it, naming a file that is not there.
    gone = MISTAKES.replace("image: /images/bestaat-niet.jpg", "image: '{static}/images/verdwenen.jpg'")
    gone = gone.replace("fouten-met-fotos", "verdwenen-foto").split("---\n\n")[0] + "---\n\nTekst.\n"
    root = planted_site(tmp_path, {"blog/fouten.nl.md": MISTAKES, "blog/verdwenen.nl.md": gone})
    images = root / "content" / "images"
    images.mkdir(exist_ok=True)
    Image.new("RGB", (640, 480), (0, 120, 0)).save(images / "goed.jpg")
    (images / "kapot.jpg").write_bytes(b"\xff\xd8\xff\xe0 dit is geen foto" * 10)
    Image.new("1", (8000, 6000)).save(images / "te-groot.png")  # 48 megapixels, a small file
    expected = [
        "content/blog/fouten.nl.md:7:8: image: /images/bestaat-niet.jpg: there is no such picture in content/",
        "content/blog/fouten.nl.md:12:1: image: no description",
        "content/blog/fouten.nl.md:18:8: image: {static}/images/weg.jpg: there is no file content/images/weg.jpg",
        "content/blog/verdwenen.nl.md:7:8: image: {static}/images/verdwenen.jpg: there is no such picture in content/",
        "content/images/kapot.jpg:1:1: image: cannot be read as a picture",
        "content/images/te-groot.png:1:1: image: 8000×6000 is 48 megapixels, more than the 40",
    ]
    for task in ("check", "build"):
        p = invoke(root, task)
        printed = (p.stdout + p.stderr).splitlines()
        assert p.returncode == 1, (task, p.stdout, p.stderr)
        assert "Traceback" not in p.stdout + p.stderr, p.stderr
        for line in expected:
            assert [x for x in printed if x.startswith(line)], f"invoke {task} did not print {line!r}:\n{p.stdout}{p.stderr}"
    assert not (root / "output").exists()


@pytest.mark.parametrize("setting, value, message", [
    ("IMAGES_WIDTHS", '"groot"', "images: IMAGES_WIDTHS must be a list of widths in pixels"),
    ("IMAGES_CACHE_DAYS", "0", "images: IMAGES_CACHE_DAYS must be a number of days (1 or more)"),
])
def test_a_wrong_setting_is_one_line_at_start_up(tmp_path, setting, value, message):
    from sitebuild.errors import BuildFailed

    root = copy_site(tmp_path / "site")
    with pytest.raises(BuildFailed) as failed:
        build_site(settings_file=root / "pelicanconf.py", output=root / "output", cwd=root,
                   extra={setting: value})
    assert message in failed.value.errors


SAFE = re.compile(r"/images/kick-off-emmen\.\w{10}\.(\d+|og)\.(avif|webp|jpg)")


def test_a_picture_named_with_a_space_and_capitals_is_published_under_a_safe_name(built):
    """Every address of it (srcset, src, og:image, JSON-LD) is one URL without anything to encode."""
    doc = _page(built, "/blog/kick-off-in-emmen/")
    srcsets = doc.xpath("//picture/source/@srcset") + doc.xpath("//picture/img/@srcset")
    assert srcsets
    urls = [entry.rsplit(" ", 1)[0] for srcset in srcsets for entry in srcset.split(", ")]
    urls += doc.xpath("//picture/img/@src") + [_meta(doc, "og:image")]
    urls += [json.loads(j)["image"]["url"] if isinstance(json.loads(j)["image"], dict) else json.loads(j)["image"]
             for j in doc.xpath("//script[@type='application/ld+json']/text()") if "image" in json.loads(j)]
    urls += [a.get("href") for a in doc.cssselect(".prose a") if a.text_content() == "De foto in het groot"]
    assert all(SAFE.search(u) and " " not in u and "%" not in u for u in urls), urls
    assert _meta(doc, "og:image").endswith(".og.jpg")


@pytest.mark.browser
def test_chromium_loads_the_avif_of_a_picture_named_with_a_space(browser, built):
    with serve_static(built) as url:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url + "/blog/kick-off-in-emmen/")
        page.wait_for_load_state("networkidle")
        src = page.evaluate("document.querySelector('.prose img').currentSrc")
        context.close()
    assert SAFE.search(src) and src.endswith(".avif"), src
