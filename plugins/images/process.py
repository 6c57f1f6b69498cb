"""One picture in, its published versions out: upright, without metadata, in a few widths and
formats, cached by the file's content and the settings that shape the result.

Imports nothing from Pelican: the plugin (plugin.py), the tests and the benchmark call it.

    inspect(path, limits)                  -> None, or the reason the file cannot be published
    process(path, params, cache_dir)       -> Processed (reads the cache, or encodes and fills it)
"""

import fcntl
import hashlib
import io
import json
import os
import shutil
import time
from dataclasses import dataclass

from PIL import Image, ImageCms, ImageOps

try:  # HEIC/HEIF, as iPhones and many Android phones save their photos
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - it is in requirements.txt
    pillow_heif = None

#: Bump when the processing below changes what it makes: every cached picture is made again.
VERSION = 1
# Our own limits (inspect()) come first and say what to do; Pillow's bomb check would only say "error".
Image.MAX_IMAGE_PIXELS = None
RASTER_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".avif", ".heic", ".heif")
MIME = {"avif": "image/avif", "webp": "image/webp", "jpeg": "image/jpeg", "png": "image/png"}
SUFFIX = {"avif": "avif", "webp": "webp", "jpeg": "jpg", "png": "png"}


class PictureError(Exception):
    """The file cannot be published as a picture; str() says why, for an editor."""


@dataclass(frozen=True)
class Variant:
    width: int
    height: int
    format: str  # avif, webp, jpeg, png
    file: str  # name inside the cache entry
    bytes: int


@dataclass(frozen=True)
class Processed:
    key: str  # the hash of the source's bytes and the processing parameters
    width: int  # of the upright original
    height: int
    variants: tuple  # Variant, each format's widths in ascending order
    fallback: str  # jpeg or png: the format every browser shows
    og: Variant | None  # the share picture (a crop of og_size), or None when not asked for
    directory: str  # the cache entry holding the files
    encoded: bool  # True when this call encoded it (not found in the cache)

    def of_format(self, fmt):
        return [v for v in self.variants if v.format == fmt]


def inspect(path, max_pixels, max_bytes):
    """Raise PictureError when `path` is not a picture the site can publish (unreadable, too
    large); reads only the file's header. Returns (width, height) as stored."""
    size = os.path.getsize(path)
    if size > max_bytes:
        raise PictureError(f"the file is {size / 1e6:.0f} MB, more than the {max_bytes / 1e6:.0f} MB a picture may be: "
                           "save it smaller (a phone's photo is 2 to 8 MB)")
    try:
        with Image.open(path) as im:
            width, height = im.size
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise PictureError(f"cannot be read as a picture ({exc.__class__.__name__}): save it again as JPEG, PNG "
                           "or HEIC") from None
    if width * height > max_pixels:
        raise PictureError(f"{width}×{height} is {width * height / 1e6:.0f} megapixels, more than the "
                           f"{max_pixels / 1e6:.0f} a picture may have: save it smaller")
    return width, height


def file_hash(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def cache_key(digest, params):
    """The source's content and everything that shapes the result (see process())."""
    blob = json.dumps({"v": VERSION, "source": digest, **params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def target_widths(width, widths):
    """The widths to make of a picture `width` wide: never wider than the original."""
    out = sorted({w for w in widths if w < width})
    if width <= max(widths):
        out.append(width)  # the picture at its own size, the largest one there is
    elif not out or out[-1] != max(widths):
        out.append(max(widths))
    return sorted(set(out))


def _upright_srgb(path, need):
    """The picture, decoded (at a reduced size when that is enough), turned upright from its EXIF
    orientation, in sRGB, with no metadata left on it."""
    im = Image.open(path)
    im.draft("RGB", (need, need))  # JPEG: decode at 1/2, 1/4... when still large enough (fast)
    im = ImageOps.exif_transpose(im)
    icc = im.info.get("icc_profile")
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    im = im.convert("RGBA" if has_alpha else "RGB")
    if icc:
        try:
            src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            im = ImageCms.profileToProfile(im, src, ImageCms.createProfile("sRGB"),
                                           outputMode=im.mode) or im
        except (ImageCms.PyCMSError, OSError):
            pass  # a broken profile: the pixels as they are
    clean = Image.new(im.mode, im.size)
    clean.paste(im)  # a new image: no EXIF, XMP, ICC, comments or GPS carried over
    return clean, has_alpha


def _save(im, fmt, quality, path):
    im.info = {}
    if fmt == "avif":
        im.save(path, "AVIF", quality=quality, speed=8)
    elif fmt == "webp":
        im.save(path, "WEBP", quality=quality, method=4)
    elif fmt == "jpeg":
        im.save(path, "JPEG", quality=quality, optimize=True, progressive=True)
    else:
        im.save(path, "PNG", optimize=True)


def _encode(path, params, directory):
    widths = params["widths"]
    og_size = params["og_size"]
    upright_w, upright_h = ImageOps.exif_transpose(Image.open(path)).size
    need = max([*widths, *(og_size or ())])
    im, has_alpha = _upright_srgb(path, need)
    fallback = "png" if has_alpha else "jpeg"
    variants = []
    scale = im.width / upright_w  # < 1 when decoded at a reduced size
    for w in target_widths(upright_w, widths):
        h = max(1, round(upright_h * w / upright_w))
        resized = im if (im.width, im.height) == (w, h) else im.resize((w, h), Image.LANCZOS,
                                                                         reducing_gap=3.0 if scale == 1 else None)
        for fmt in [*params["formats"], fallback]:
            name = f"{w}.{SUFFIX[fmt]}"
            _save(resized.copy(), fmt, params["quality"][fmt], os.path.join(directory, name))
            variants.append(Variant(w, h, fmt, name, os.path.getsize(os.path.join(directory, name))))
    og = None
    if og_size:
        crop = ImageOps.fit(im.convert("RGB"), tuple(og_size), Image.LANCZOS, centering=(0.5, 0.4))
        _save(crop, "jpeg", params["quality"]["jpeg"], os.path.join(directory, "og.jpg"))
        og = Variant(og_size[0], og_size[1], "jpeg", "og.jpg", os.path.getsize(os.path.join(directory, "og.jpg")))
    order = {f: i for i, f in enumerate([*params["formats"], fallback])}
    variants.sort(key=lambda v: (order[v.format], v.width))
    return {"width": upright_w, "height": upright_h, "fallback": fallback,
            "variants": [v.__dict__ for v in variants], "og": og.__dict__ if og else None}


def process(path, params, cache_dir, digest=None):
    """The published versions of the picture at `path`, from `cache_dir` when made before.

    `params`: {"widths": [...], "formats": ["avif", "webp"], "quality": {fmt: int},
    "og_size": [1200, 630] or None}. Several processes may ask for one picture at once
    (one Pelican run per language): the first makes it under a lock, the others wait and read it.
    """
    key = cache_key(digest or file_hash(path), params)
    entry = os.path.join(cache_dir, key)
    meta_file = os.path.join(entry, "meta.json")
    os.makedirs(cache_dir, exist_ok=True)
    encoded = False
    if not os.path.isfile(meta_file):
        with open(os.path.join(cache_dir, f"{key}.lock"), "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not os.path.isfile(meta_file):
                tmp = f"{entry}.tmp-{os.getpid()}"
                shutil.rmtree(tmp, ignore_errors=True)
                os.makedirs(tmp)
                try:
                    meta = _encode(path, params, tmp)
                    with open(os.path.join(tmp, "meta.json"), "w", encoding="utf-8") as f:
                        json.dump(meta, f)
                    shutil.rmtree(entry, ignore_errors=True)
                    os.rename(tmp, entry)
                except BaseException:
                    shutil.rmtree(tmp, ignore_errors=True)
                    raise
                encoded = True
        try:
            os.unlink(os.path.join(cache_dir, f"{key}.lock"))
        except FileNotFoundError:
            pass
    with open(meta_file, encoding="utf-8") as f:
        meta = json.load(f)
    os.utime(entry)  # the entry's last use (prune); its files keep the time they were made
    return Processed(key=key, width=meta["width"], height=meta["height"],
                     variants=tuple(Variant(**v) for v in meta["variants"]), fallback=meta["fallback"],
                     og=Variant(**meta["og"]) if meta["og"] else None, directory=entry, encoded=encoded)


def prune(cache_dir, keep, days, now=None):
    """Remove the cache entries not used for `days` days (the directory's time is its last use:
    process() sets it) and not in `keep`, and what an interrupted encoding left behind. Returns
    the names removed. A picture deleted or changed leaves its entry unused; after `days` it
    goes, so the cache does not grow for ever, and a branch switched back to within that time
    still finds its pictures."""
    now = time.time() if now is None else now
    removed = []
    try:
        names = os.listdir(cache_dir)
    except FileNotFoundError:
        return removed
    for name in sorted(names):
        path = os.path.join(cache_dir, name)
        try:
            age = now - os.stat(path).st_mtime
        except FileNotFoundError:
            continue
        leftover = ".tmp-" in name or name.endswith(".lock")
        if name in keep or age < (86400 if leftover else days * 86400):
            continue
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                continue
        removed.append(name)
    return removed
