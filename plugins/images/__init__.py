"""images: every raster picture in content/ made light, upright and private at build time.

Each JPEG, PNG, WebP, AVIF or HEIC/HEIF file among the static files (content/images/) is
checked (readable, at most IMAGES_MAX_MEGAPIXELS and IMAGES_MAX_MEGABYTES: else one
``file:line:col: image: message`` line, through buildcheck), turned upright from its EXIF
orientation, converted to sRGB and stripped of every metadata block (EXIF with GPS, XMP,
ICC), and made in IMAGES_WIDTHS (never wider than the original) as AVIF and WebP
(IMAGES_FORMATS) plus JPEG (PNG when it has transparency), and a 1200×630 crop for sharing
(IMAGES_OG_SIZE). The original is not published; SVG and other files pass through untouched.

Each page's ``<img>`` of such a picture (Markdown image, ``{static}`` link, ``/images/...``)
becomes a ``<picture>`` with srcset, sizes (IMAGES_SIZES), width and height, and
``loading="lazy"`` after the first IMAGES_EAGER pictures; a link to the picture leads to its
largest JPEG. Each post and page gets ``og_image`` (url, width, height, alt) from its
``image:`` header, else its first picture; ``IMAGES_OG_DEFAULT_META`` is the site's default.

process.py does the work without Pelican, cached in IMAGES_CACHE_PATH by the file's content
and the settings, so a build that did not change a picture does not make it again.
Settings (prefix IMAGES_), validated at start-up: see plugin.DEFAULTS.
"""

from .plugin import register  # noqa: F401
