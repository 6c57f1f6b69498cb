"""Files about the whole site, written once after every language's run.

sitemap.xml lists every page of every language with xhtml:link alternates.

Each language is built by its own Pelican run, so no single run sees every page. The
sitemap is therefore written once, after all runs, from the output itself: every HTML
page is listed once, with the `<link rel="alternate" hreflang>` links it carries (the
same links visitors' browsers and search engines read), so the two cannot disagree.
"""

import hashlib
import io
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin
from xml.etree import ElementTree as ET

import lxml.html

from decap.config import admin_headers

from .plugin import content_security_policy

SM = "http://www.sitemaps.org/schemas/sitemap/0.9"
XHTML = "http://www.w3.org/1999/xhtml"
EXCLUDE = {"404.html"}


@contextmanager
def replacing(path):
    """A temporary file beside `path` that replaces it once written: these files (and the build's
    stamps) are renewed in an output that is being served (the development server reads `_headers`
    for every answer), and a reader must never find one half written."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def replace_whole(path, text, encoding="utf-8"):
    """Write `text` to `path` so that a reader finds the old file or the new one, whole."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding=encoding)


def page_url(output: Path, page: Path) -> str:
    rel = page.relative_to(output).as_posix()
    return "/" + (rel[: -len("index.html")] if rel.endswith("index.html") else rel)


def sitemap_entries(pages):
    """[(page, [(hreflang, href), ...])] of the pages (HTML files) that belong in the sitemap,
    with the alternates each carries. The build reads each language's pages as soon as its run
    is done (sitebuild.build), and writes the sitemap of all of them once every run is."""
    entries = []
    for page in pages:
        if page.name in EXCLUDE:
            continue
        # Only the <head> matters, and parsing it alone keeps this fast on large sites.
        raw = page.read_bytes()
        end = raw.find(b"</head>")
        links = _head_links(raw[: end + 7] + b"</html>" if end != -1 else raw)
        if links is not None:
            entries.append((page, links))
    return entries


# What a page's <head> gives the sitemap, by the head's digest: in the development server,
# after a save, every page but the few the save changed has a head parsed before (reading it
# all again took as long as Pagefind's index of the saved post's language, on the same cores).
_HEADS = {}
_HEADS_KEPT = 50_000  # heads remembered, at most: emptied beyond that


def _head_links(head):
    """The alternates (hreflang, href) of a page from its head, or None if the page stays out
    of the sitemap."""
    key = hashlib.blake2b(head, digest_size=16).digest()
    if key in _HEADS:
        return _HEADS[key]
    doc = lxml.html.fromstring(head)
    if doc.xpath("/html[@data-sitemap='exclude'] | //meta[@name='robots'][contains(@content, 'noindex')]"):
        links = None
    else:
        links = tuple((link.get("hreflang"), link.get("href"))
                      for link in doc.xpath("//head/link[@rel='alternate'][@hreflang]"))
    if len(_HEADS) >= _HEADS_KEPT:
        _HEADS.clear()
    _HEADS[key] = links
    return links


def write_sitemap(output, site_origin, entries=None):
    """Write output/sitemap.xml; URLs are made absolute with ``site_origin``. `entries`:
    sitemap_entries() of every page, if read already (else every page of `output` is read)."""
    output = Path(output)
    if entries is None:
        entries = sitemap_entries(output.rglob("*.html"))
    target = output / "sitemap.xml"
    listed = _listed(output, site_origin, entries)
    if _SITEMAPS.get(str(target)) == (listed, _file_id(target)):
        return  # the file this wrote, from the same pages (the development server, after a save)
    with replacing(target) as tmp:
        _sitemap_tree(listed).write(tmp, encoding="utf-8", xml_declaration=True)
    _remember(target, listed)


def remember_sitemap(output, site_origin):
    """Note what output/sitemap.xml lists if it is the sitemap of the pages there now (the
    development server, starting on an output that is up to date, so that the first save does
    not write it again)."""
    output = Path(output)
    target = output / "sitemap.xml"
    listed = _listed(output, site_origin, sitemap_entries(output.rglob("*.html")))
    before = _file_id(target)
    buffer = io.BytesIO()
    _sitemap_tree(listed).write(buffer, encoding="utf-8", xml_declaration=True)
    try:
        same = target.read_bytes() == buffer.getvalue()
    except OSError:
        return
    if same and _file_id(target) == before:
        _remember(target, listed)


def _listed(output, site_origin, entries):
    return site_origin, tuple((page_url(output, page), links) for page, links in sorted(entries, key=lambda e: e[0]))


def _sitemap_tree(listed):
    site_origin, pages = listed
    ET.register_namespace("", SM)
    ET.register_namespace("xhtml", XHTML)
    urlset = ET.Element(f"{{{SM}}}urlset")
    base = site_origin.rstrip("/") + "/"
    for here, links in pages:
        url = ET.SubElement(urlset, f"{{{SM}}}url")
        ET.SubElement(url, f"{{{SM}}}loc").text = urljoin(base, here.lstrip("/"))
        for hreflang, href in links:
            ET.SubElement(url, f"{{{XHTML}}}link", rel="alternate", hreflang=hreflang,
                          href=urljoin(base + here.lstrip("/"), href))
    tree = ET.ElementTree(urlset)
    ET.indent(tree)
    return tree


def _remember(target, listed):
    if len(_SITEMAPS) >= 100:
        _SITEMAPS.clear()
    _SITEMAPS[str(target)] = (listed, _file_id(target))


# {sitemap.xml's path: (what it lists, the file written)}: a sitemap of the same pages is not
# made again while the file is the one written (its inode, size and time: a build swapping
# in another output, or anyone replacing the file, makes it another).
_SITEMAPS = {}


def _file_id(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


def write_robots(output, site_origin):
    """robots.txt: everything may be crawled; the sitemap's absolute address."""
    replace_whole(Path(output, "robots.txt"), f"User-agent: *\nAllow: /\n\nSitemap: {site_origin.rstrip('/')}/sitemap.xml\n")


def write_headers(output, settings):
    """`_headers` (Netlify, Cloudflare Pages and similar hosts): security headers for every path."""

    settings = dict(settings)
    settings.setdefault("PUBLISHING_CSP_EXTRA", {})
    replace_whole(Path(output, "_headers"),
        "/*\n"
        f"  Content-Security-Policy: {content_security_policy(settings)}\n"
        "  X-Content-Type-Options: nosniff\n"
        "  Referrer-Policy: strict-origin-when-cross-origin\n"
        "  Permissions-Policy: camera=(), microphone=(), geolocation=(), interest-cohort=()\n"
        "  Cross-Origin-Opener-Policy: same-origin\n"
        "  X-Frame-Options: DENY\n"
        "  Strict-Transport-Security: max-age=31536000\n" + _path_blocks(settings), encoding="utf-8")


def headers_for(path, url_path="/"):
    """The headers a `_headers` file gives `url_path`, as Netlify or Cloudflare Pages would send
    them: those of every block whose pattern matches it (``/*``, ``/admin/*``...), in order;
    ``! Name`` (Cloudflare Pages' syntax) drops what an earlier block set, so /admin/ gets its
    own policy. [] when there is no such file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError:
        return []
    headers, applies = [], False
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line[0].isspace():
            pattern = line.strip()
            applies = url_path == pattern or (pattern.endswith("*") and url_path.startswith(pattern[:-1]))
        elif applies and line.strip().startswith("!"):
            drop = line.strip()[1:].strip().lower()
            headers = [(n, v) for n, v in headers if n.lower() != drop]
        elif applies and ":" in line:
            name, _, value = line.strip().partition(":")
            headers.append((name.strip(), value.strip()))
    return headers


def _path_blocks(settings):
    """Headers that differ below one path: the editor at /admin/ (plugins/decap) has a CSP of
    its own. `! Name` first detaches the sitewide header (Cloudflare Pages' syntax), so
    the two policies are not both applied."""
    if "decap" not in settings.get("PLUGINS", []):
        return ""

    pattern, headers = admin_headers(settings)
    return f"{pattern}\n" + "".join(f"  ! {name}\n" for name in headers) + \
        "".join(f"  {name}: {value}\n" for name, value in headers.items())


def sitemap_origin(settings):
    """The origin the sitemap's addresses start with."""
    return settings["SITEURL"] if settings["SITEURL"].startswith("http") else settings["SITE_ORIGIN"]


def write_sitewide_files(output, settings, entries=None):
    """The files that describe the whole site, written after every language's run (`entries`:
    see write_sitemap)."""
    origin = sitemap_origin(settings)
    write_sitemap(output, origin, entries)
    write_robots(output, origin)
    write_headers(output, settings)
