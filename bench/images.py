"""Section 7: pictures (plugins/images), with phone photos.

A copy of the real site with PHOTOS phone photos (4032×3024 JPEGs stored sideways with EXIF
orientation 6 and GPS, made here with Pillow: shapes over noise, so they compress like photos)
in one post. Each build is the project's own (bench.build_run, a fresh process):

* cold: no picture cache, no content cache, no output;
* warm: an unrelated post edited, everything else as built;
* one photo added: a new photo in the post.

"made" counts the cache entries the build wrote (a picture encoded), so a build that reuses the
cache shows 0. The bytes are those of the files a browser picks (AVIF) at 390 px (3×: the
1200 px file) and at 1280 px (the 800 px file), against the originals.
"""

import random
import shutil

from bench.build import run_build, site_spec
from bench.photos import phone_photo  # noqa: F401  (the tests take it from here too)
from bench.report import Target, fmt, log, median
from bench.sites import copy_site

PHOTOS = 50


def save_phone_photo(path, seed):
    im, exif = phone_photo(seed=seed)
    im.save(path, "JPEG", quality=92, exif=exif)


def _post(names):
    body = "\n\n".join(f"![Foto {i + 1} van de bijeenkomst](/images/{name})" for i, name in enumerate(names))
    return ("---\ntitle: Foto's\nslug: fotos\ntranslation_key: fotos\nlang: nl\ndate: 2024-05-03\n"
            "summary: Foto's van de bijeenkomst.\n---\n\n" + body + "\n")


def _entries(site):
    return {p.parent.name: p.stat().st_mtime_ns for p in (site / "cache-images").glob("*/meta.json")}


def _build(site, force=False):
    before = _entries(site)
    res = run_build(dict(site_spec(site), force=force))
    after = _entries(site)
    res["made"] = sum(1 for k, t in after.items() if before.get(k) != t)
    return res


def pictures(work, quick, report):
    count = 2 if quick else PHOTOS
    site = work / "pictures"
    shutil.rmtree(site, ignore_errors=True)
    copy_site(site)
    images = site / "content" / "images"
    images.mkdir(exist_ok=True)
    names = [f"foto-{i:02d}.jpg" for i in range(count)]
    for i, name in enumerate(names):
        save_phone_photo(images / name, i)
    original = sum((images / n).stat().st_size for n in names)
    post = site / "content" / "blog" / "fotos.nl.md"
    post.write_text(_post(names), encoding="utf-8")
    rows, runs = [], {}
    log(f"[pictures] {count} photos, {original / 1e6:.0f} MB")
    runs["cold"] = _build(site, force=True)
    unrelated = next(p for p in sorted((site / "content" / "blog").glob("*.nl.md")) if p != post)
    unrelated.write_text(unrelated.read_text(encoding="utf-8") + "\nEen bewerking.\n", encoding="utf-8")
    runs["warm"] = _build(site)
    save_phone_photo(images / "foto-nieuw.jpg", 999)
    post.write_text(_post([*names, "foto-nieuw.jpg"]), encoding="utf-8")
    runs["one photo added"] = _build(site)
    for name, res in runs.items():
        if not res.get("ok"):
            report.problem(f"pictures: the {name} build failed:\n{res.get('error', '')[-1500:]}")
            return
        log(f"[pictures] {name}: {res['seconds']:.1f} s, {res['made']} made")
        rows.append([name, fmt(res["seconds"], ".1f"), str(res["made"])])
    out = site / "output" / "images"
    phone = [p.stat().st_size for p in out.glob("foto-*.1200.avif")]
    desk = [p.stat().st_size for p in out.glob("foto-*.800.avif")]
    jpeg = [p.stat().st_size for p in out.glob("foto-*.800.jpg")]
    report.add(f"Pictures ({count} phone photos, 4032×3024 JPEG, {original / 1e6:.0f} MB)",
               ["build", "seconds", "pictures made"], rows,
               [f"per photo (median): original {fmt(median([(images / n).stat().st_size for n in names]) / 1e3, ',.0f')} kB; "
                f"390 px phone (3×, 1200 px AVIF) {fmt(median(phone) / 1e3, ',.0f')} kB; 1280 px screen "
                f"(800 px AVIF) {fmt(median(desk) / 1e3, ',.0f')} kB; JPEG fallback at 800 px "
                f"{fmt(median(jpeg) / 1e3, ',.0f')} kB",
                "each build is the full project build (both languages, search index) in a fresh process; "
                "'made' counts the picture cache entries a build wrote"])
    report.targets.append(Target("pictures: rebuild after an unrelated edit", "0 pictures made",
                                 str(runs["warm"]["made"]), runs["warm"]["made"] == 0))
    report.targets.append(Target("pictures: one photo added", "1 picture made",
                                 str(runs["one photo added"]["made"]), runs["one photo added"]["made"] == 1))
    report.targets.append(Target("pictures: a 390 px phone's file", "≤ 300 kB per photo",
                                 f"{median(phone) / 1e3:,.0f} kB", median(phone) <= 300_000))
