"""Share cards: the 1200×630 picture shown when a page without a picture of its own is shared
(LinkedIn, a chat). The page's title on the site's colours, the site's logo and name, for a
network page the network's name above the title. No Pelican import.

Drawn with Pillow (the imaging library the site already uses) in Inter, installed from npm with
the editor (@fontsource/inter: no remote and no system font, so the same card on every machine);
the logo (an SVG) rendered by resvg. A JPEG of some 30-80 KB.
"""

import hashlib
import io
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import resvg_py
from PIL import Image, ImageDraw, ImageFont

SIZE = (1200, 630)
VERSION = "3"  # part of every card's key: a change of the drawing below makes every card anew
MARGIN = 80
TITLE_SIZES = (68, 60, 52, 46)  # the largest size at which the title fits in TITLE_LINES lines
TITLE_LINES = 4
QUALITY = 80


@dataclass(frozen=True)
class Style:
    background: str
    text: str
    accent: str
    muted: str
    logo: Path  # an SVG
    bold: Path  # font files (TrueType, OpenType or WOFF)
    regular: Path
    site_name: str
    site_address: str  # shown small at the bottom, e.g. www.knnadvies.nl

    @cached_property
    def fingerprint(self):
        """What every card of this style depends on besides its text: read once (a build asks
        for it for every page)."""
        parts = [VERSION, self.background, self.text, self.accent, self.muted, self.site_name, self.site_address]
        files = b"".join(hashlib.sha256(p.read_bytes() if p.is_file() else b"").digest()
                         for p in (self.logo, self.bold, self.regular))
        return hashlib.sha256("\0".join(parts).encode() + files).hexdigest()


def key(style, title, kicker, lang):
    """The card's content hash: its name in the cache and, shortened, in the output."""
    return hashlib.sha256("\0".join([style.fingerprint, title, kicker or "", lang]).encode()).hexdigest()


@lru_cache(maxsize=32)
def _font(path, size):
    return ImageFont.truetype(str(path), size)


def _lines(draw, text, font, width):
    words, lines, line = text.split(), [], ""
    for word in words:
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _fit(draw, text, width, path):
    """(font, lines) of the title: the largest size that fits, else the smallest with the last
    line ending in an ellipsis."""
    for size in TITLE_SIZES:
        font = _font(path, size)
        lines = _lines(draw, text, font, width)
        if len(lines) <= TITLE_LINES:
            return font, lines
    lines = lines[:TITLE_LINES]
    while lines[-1] and draw.textlength(lines[-1] + " …", font=font) > width:
        lines[-1] = lines[-1].rsplit(" ", 1)[0] if " " in lines[-1] else lines[-1][:-1]
    lines[-1] += " …"
    return font, lines


@lru_cache(maxsize=4)
def _logo(style, size):
    if not style.logo.is_file():
        return None
    png = bytes(resvg_py.svg_to_bytes(svg_path=str(style.logo), width=size, height=size))
    return Image.open(io.BytesIO(png)).convert("RGBA")


def render(style, title, kicker=None):
    """The card as JPEG bytes."""
    card = Image.new("RGB", SIZE, style.background)
    draw = ImageDraw.Draw(card)
    draw.rectangle([0, 0, 24, SIZE[1]], fill=style.accent)  # the site's green, down the left edge
    logo = _logo(style, 88)
    x = MARGIN
    if logo is not None:
        card.paste(logo, (MARGIN, MARGIN - 8), logo)
        x += 88 + 28
    draw.text((x, MARGIN + 36), style.site_name, font=_font(style.bold, 44), fill=style.text, anchor="lm")
    width = SIZE[0] - 2 * MARGIN
    y = 250
    if kicker:
        draw.text((MARGIN, y - 30), kicker, font=_font(style.bold, 36), fill=style.accent, anchor="ls")
        y += 20
    font, lines = _fit(draw, title, width, style.bold)
    step = int(font.size * 1.2)
    top = y + max(0, (SIZE[1] - 110 - y - step * len(lines)) // 2) if not kicker else y
    for i, line in enumerate(lines):
        draw.text((MARGIN, top + i * step), line, font=font, fill=style.text, anchor="lt")
    draw.text((MARGIN, SIZE[1] - 60), style.site_address, font=_font(style.regular, 30), fill=style.muted,
              anchor="ls")
    out = io.BytesIO()
    card.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()
