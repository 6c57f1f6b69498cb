"""Sections 3 and 4: page weight and Lighthouse, on the real site.

3. Page weight: the real site, built as published (publishconf.py) for the loopback
   address it is served at, in headless Chromium; every request recorded; bytes as sent
   gzip-compressed; any request to another host is flagged (and fails the run).
4. Lighthouse (mobile): the four category scores of the same pages.
"""

import contextlib
import functools
import gzip
import http.server
import ipaddress
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.report import CHROMIUM, LIGHTHOUSE, Target, fmt, free_port, machine_info, run_bounded
from bench.sites import copy_site, site_settings

# Chromium resolves update.googleapis.com even with --disable-component-update (seen with
# strace); the resolver rule makes every name but loopback fail inside Chromium, so not even
# a DNS query leaves the machine.
NO_DNS = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync", NO_DNS]
WEIGHT_TARGET_BYTES = 15_000  # HTML + CSS + JS, gzip, per page (15 KB, 1 KB = 1,000 bytes)
LIGHTHOUSE_TARGET = 100
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/xml",
                "image/svg+xml", "application/manifest+json", "application/wasm")


def real_site_pages(work, quick, report):
    """Both sections: the real site built as published, served at a loopback port, weighed,
    then (unless quick) scored by Lighthouse."""
    port = free_port()
    try:
        real = build_real_site(work, f"http://127.0.0.1:{port}")
    except Exception as e:  # noqa: BLE001
        report.problem(f"the real site did not build: {getattr(e, 'errors', e)}"[:3000])
        return
    pages = None
    try:
        pages = page_weight(real, port, report)
    except Exception as e:  # noqa: BLE001
        report.problem(f"page weight: {type(e).__name__}: {e}")
    if pages and not quick:
        lighthouse(real, port, pages, work, report)
    elif quick:
        report.add("Lighthouse", ["page"], [], ["skipped (--quick)"])


# --- page weight -------------------------------------------------------------------------

def is_loopback(host):
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address((host or "").strip("[]")).is_loopback
    except ValueError:
        return False


class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """A static server that gzips text responses, as a production server would."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            if not self.path.split("?", 1)[0].endswith("/"):
                return super().send_head()  # the redirect to the slash URL
            path = os.path.join(path, "index.html")
        ctype = self.guess_type(path)
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not os.path.isfile(path) or not accepts_gzip or not ctype.startswith(COMPRESSIBLE):
            return super().send_head()
        with open(path, "rb") as f:
            body = gzip.compress(f.read(), 6)
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        import io

        return io.BytesIO(body)


@contextlib.contextmanager
def serve(directory, port=0):
    """Serve `directory` on 127.0.0.1 (`port`, or a free one) for the duration of the block."""
    handler = functools.partial(GzipHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    # shutdown() returns within 50 ms (serve_forever polls every half second by default)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def kind_of(resource_type, url):
    path = urlsplit(url).path.lower()
    if resource_type == "document":
        return "html"
    if resource_type == "stylesheet" or path.endswith(".css"):
        return "css"
    if resource_type == "script" or path.endswith((".js", ".mjs")):
        return "js"
    if resource_type == "font" or path.endswith((".woff2", ".woff", ".ttf", ".otf")):
        return "font"
    if resource_type == "image":
        return "image"
    return "other"


def gzip_size(body, content_type):
    if (content_type or "").startswith(COMPRESSIBLE):
        return len(gzip.compress(body, 6))
    return len(body)  # already compressed formats (woff2, png...) are sent as they are


def _route_loopback_only(foreign, route):
    """Let loopback requests through; record and abort any other (it never leaves the machine)."""
    url = route.request.url
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and not is_loopback(parts.hostname):
        foreign.append(url)
        route.abort("blockedbyclient")
    else:
        route.continue_()


def measure_pages(base_url, paths, chromium=CHROMIUM):
    """Load each path in headless Chromium; every request recorded, foreign ones aborted.

    Returns one dict per path: status, requests (url, kind, bytes_gzip, foreign),
    per-kind gzip bytes and the list of foreign URLs (requests to another host; they are
    aborted before they leave the machine, but counted and flagged).
    """
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for path in paths:
                context = browser.new_context()  # a cold cache for every page
                requests, foreign, responses = [], [], []

                context.route("**/*", functools.partial(_route_loopback_only, foreign))
                page = context.new_page()
                page.on("request", lambda req, requests=requests: requests.append(req))
                page.on("response", lambda resp, responses=responses: responses.append(resp))
                # Requests made by service workers or to hosts the route did not see: none expected.
                response = page.goto(base_url + path, wait_until="load")
                with contextlib.suppress(Exception):
                    page.wait_for_load_state("networkidle", timeout=5000)
                by_request = {}
                for resp in responses:
                    try:
                        body = resp.body()
                    except Exception:  # noqa: BLE001 - redirects have no body
                        body = b""
                    by_request[id(resp.request)] = (resp.status, resp.headers.get("content-type", ""), body)
                rows, totals = [], {}
                for req in requests:
                    url = req.url
                    if urlsplit(url).scheme in ("data", "blob"):
                        continue
                    status, ctype, body = by_request.get(id(req), (None, "", b""))
                    kind = kind_of(req.resource_type, url)
                    size = gzip_size(body, ctype)
                    is_foreign = not is_loopback(urlsplit(url).hostname)
                    rows.append({"url": url, "kind": kind, "status": status, "bytes_gzip": size,
                                 "bytes_raw": len(body), "foreign": is_foreign})
                    totals[kind] = totals.get(kind, 0) + size
                results.append({"path": path, "status": response.status if response else None,
                                "requests": rows, "totals": totals,
                                "foreign": sorted(set(foreign) | {r["url"] for r in rows if r["foreign"]})})
                context.close()
        finally:
            browser.close()
    return results


@contextlib.contextmanager
def environment(**values):
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def build_published(site, origin):
    """Build `site` as it is published (publishconf.py: absolute URLs, no drafts), but with
    `origin` (a loopback http://127.0.0.1:PORT) as its address, so that canonical and
    hreflang links point where it is served. Raises sitebuild.errors.BuildFailed."""
    from sitebuild.build import build_site

    with environment(SITEURL=origin, FORM_ENDPOINT=origin + "/join/{slug}"):
        build_site(settings_file=site / "publishconf.py", output=site / "output", cwd=site, capture=True)


def build_real_site(work, origin):
    """The site as it is (real content), built as published, to be served at `origin`."""
    site = work / "real"
    if site.exists():
        shutil.rmtree(site)
    copy_site(site)
    build_published(site, origin)
    return site


def pages_to_weigh(site):
    """(label, path) of the home page, a post, a network page and the thank-you page."""
    out = site / "output"
    pages = [("home", "/")]
    for md in sorted((site / "content" / "blog").glob("*.md")):
        text = md.read_text(encoding="utf-8")
        if re.search(r"^lang:\s*nl\s*$", text, re.M):
            m = re.search(r"^slug:\s*(\S+)", text, re.M)
            if m and (out / "blog" / m.group(1) / "index.html").exists():
                pages.append(("post", f"/blog/{m.group(1)}/"))
                break
    settings = site_settings(site)
    words = settings.get("LANGUAGES", {}).get("nl", {}).get("words", {})
    netdir = out / words.get("networks", "netwerken")
    nets = sorted(p.parent.name for p in netdir.glob("*/index.html")) if netdir.is_dir() else []
    if nets:
        pages.append(("network", f"/{netdir.name}/{nets[0]}/"))
    if (out / "bedankt" / "index.html").exists():
        pages.append(("thank-you", "/bedankt/"))
    return pages


def page_weight(site, port, report):
    if not os.access(CHROMIUM, os.X_OK):
        report.add("Page weight", ["page"], [], [f"not measured: {CHROMIUM} is missing"])
        return None
    pages = pages_to_weigh(site)
    with serve(site / "output", port) as url:
        results = measure_pages(url, [p for _, p in pages])
    rows, worst = [], 0
    for (label, path), r in zip(pages, results):
        t = r["totals"]
        core = t.get("html", 0) + t.get("css", 0) + t.get("js", 0)
        worst = max(worst, core)
        rows.append([label, path, r["status"], f"{t.get('html', 0):,}", f"{t.get('css', 0):,}",
                     f"{t.get('js', 0):,}", f"{t.get('font', 0):,}", f"{t.get('image', 0) + t.get('other', 0):,}",
                     f"{core:,}", "met" if core <= WEIGHT_TARGET_BYTES else "MISSED", len(r["requests"]),
                     len(r["foreign"]) or "none"])
        if r["foreign"]:
            report.problem(f"page {path} requests other hosts: {', '.join(r['foreign'])}")
        if r["status"] != 200:
            report.problem(f"page {path} answered {r['status']}")
    notes = ["bytes as sent gzip-compressed (level 6) for text types, as-is for binary ones "
             "(fonts, images); fresh browser context (cold cache) per page",
             f"target: HTML+CSS+JS ≤ {WEIGHT_TARGET_BYTES:,} bytes gzip per page; no request to any other host"]
    if not any(label == "network" for label, _ in pages):
        notes.append("no network page in the built site: not measured")
    if not any(label == "thank-you" for label, _ in pages):
        notes.append("no /bedankt/ page in the built site: not measured")
    report.add("Page weight (real site, headless Chromium)",
               ["page", "path", "status", "HTML B", "CSS B", "JS B", "fonts B", "img+other B",
                "HTML+CSS+JS B", "≤15 KB", "requests", "other hosts"], rows, notes)
    report.targets.append(Target("page weight", f"≤ {WEIGHT_TARGET_BYTES:,} B gzip HTML+CSS+JS per page",
                                 f"largest {worst:,} B", worst <= WEIGHT_TARGET_BYTES))
    foreign = sum(len(r["foreign"]) for r in results)
    report.targets.append(Target("no third-party requests", "0 requests to other hosts", str(foreign), foreign == 0))
    return pages


# --- Lighthouse --------------------------------------------------------------------------

LIGHTHOUSE_CHROME_FLAGS = ("--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
                           "--disable-background-networking --disable-component-update --disable-sync "
                           "--disable-default-apps --disable-extensions "
                           "--host-resolver-rules='MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost'")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")


def run_lighthouse(url, out_json, timeout=240, categories=CATEGORIES, audits=()):
    """Lighthouse (mobile, the default) on one loopback URL; the parsed report.

    `categories`: the categories it scores (fewer cost less: without performance, no trace is
    analysed); `audits`: audits it runs beside theirs. The network requests are always listed
    (lighthouse_summary). Raises RuntimeError with Lighthouse's message when it fails.
    """
    if not is_loopback(urlsplit(url).hostname):
        raise ValueError(f"Lighthouse runs on loopback URLs only, not {url}")
    cmd = ["node", str(LIGHTHOUSE), url, "--output=json", f"--output-path={out_json}", "--quiet",
           "--disable-full-page-screenshot", f"--chrome-flags={LIGHTHOUSE_CHROME_FLAGS}"]
    if tuple(categories) != CATEGORIES or audits:
        cmd += [f"--only-categories={','.join(categories)}",
                f"--only-audits={','.join(('network-requests', *audits))}"]
    env = dict(os.environ, CHROME_PATH=CHROMIUM)
    code, out, err = run_bounded(cmd, timeout, env=env)
    if code != 0 or not Path(out_json).exists():
        raise RuntimeError(f"lighthouse exited {code}: {(err or out)[-1500:]}")
    return json.loads(Path(out_json).read_text(encoding="utf-8"))


def lighthouse_summary(lhr):
    """{category: score 0-100}, [failing audits], [non-loopback URLs the page requested]."""
    scores = {c: (round(lhr["categories"][c]["score"] * 100) if lhr["categories"].get(c, {}).get("score")
                  is not None else None) for c in CATEGORIES}
    failing = []
    for c in CATEGORIES:
        for ref in lhr["categories"].get(c, {}).get("auditRefs", []):
            audit = lhr["audits"].get(ref["id"], {})
            if ref.get("weight", 0) > 0 and audit.get("score") is not None and audit["score"] < 1:
                failing.append(f"{c}: {ref['id']} ({audit.get('score')}) {audit.get('displayValue', '')}".strip())
    items = lhr["audits"].get("network-requests", {}).get("details", {}).get("items", [])
    foreign = sorted({i["url"] for i in items if urlsplit(i.get("url", "")).scheme in ("http", "https")
                      and not is_loopback(urlsplit(i["url"]).hostname)})
    return scores, failing, foreign


def lighthouse(site, port, pages, work, report):
    if not LIGHTHOUSE.exists() or not os.access(CHROMIUM, os.X_OK) or not shutil.which("node"):
        report.add("Lighthouse", ["page"], [], ["not measured: needs node, node_modules/lighthouse (npm ci) "
                                                f"and {CHROMIUM}"])
        return
    rows, failing_all, all_scores, bench_index = [], [], [], []
    with serve(site / "output", port) as url:
        for label, path in pages:
            t = time.monotonic()
            try:
                lhr = run_lighthouse(url + path, work / f"lighthouse-{label}.json")
            except Exception as e:  # noqa: BLE001
                rows.append([label, path] + ["error"] * 4 + ["–"])
                report.problem(f"Lighthouse failed on {path}: {e}")
                continue
            scores, failing, foreign = lighthouse_summary(lhr)
            bench_index.append(lhr.get("environment", {}).get("benchmarkIndex"))
            all_scores += [s for s in scores.values() if s is not None]
            failing_all += [f"{path}: {f}" for f in failing]
            if foreign:
                report.problem(f"Lighthouse saw {path} request other hosts: {', '.join(foreign)}")
            rows.append([label, path] + [fmt(scores[c], "d") for c in CATEGORIES] + [f"{time.monotonic() - t:.0f} s"])
    notes = [f"Lighthouse {machine_info()['lighthouse']}, mobile (the default: simulated slow 4G, 4x CPU "
             f"slowdown), headless Chromium, against the published build served at 127.0.0.1 (gzip); "
             f"target {LIGHTHOUSE_TARGET} in every category",
             f"Lighthouse's benchmarkIndex of this machine: {', '.join(fmt(b, ',.0f') for b in bench_index)} "
             "(it calibrates the 4x CPU slowdown for ~1,000+; a busy 2-core machine scores lower, so "
             "the performance score is pessimistic here)"]
    notes += [f"below 100: {f}" for f in failing_all] or ["no scored audit below 1"]
    report.add("Lighthouse (mobile)", ["page", "path"] + list(CATEGORIES) + ["took"], rows, notes)
    report.targets.append(Target("Lighthouse", "100 / 100 / 100 / 100 on every page",
                                 f"lowest {min(all_scores) if all_scores else '–'}",
                                 bool(all_scores) and min(all_scores) >= LIGHTHOUSE_TARGET))
