"""The sites the build benchmark builds: copies of the real site whose blog holds N
synthetic post pairs (content.py writes them) beside generated networks."""

import shutil
from pathlib import Path

from bench.content import NETWORK_COUNT, PICTURES, linked_posts, write_networks, write_posts, write_site_copies
from bench.photos import phone_photo
from sitebuild import ROOT


def copy_site(dest, extra_posts=()):
    """A copy of the real site (settings, content, theme, plugins) to build in isolation; the
    npm packages (the editor's bundle, which every build serves at /admin/) linked, not copied.
    The benchmark's sites and the tests' start from it."""
    dest = Path(dest)
    for name in ("content", "theme", "plugins"):
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pelicanconf.py", "publishconf.py"):
        shutil.copy2(ROOT / name, dest / name)
    if (ROOT / "node_modules").is_dir():
        (dest / "node_modules").symlink_to(ROOT / "node_modules", target_is_directory=True)
    for post in extra_posts:
        shutil.copy2(post, dest / "content" / "blog" / Path(post).name)
    return dest


def site_settings(site):
    from sitebuild.build import read_site_settings

    return read_site_settings(site / "pelicanconf.py")


def networks_available(site):
    """(True, why) when the network pages plugin is enabled and the site has network files."""
    settings = site_settings(site)
    if "network_pages" not in settings.get("PLUGINS", []):
        return False, "the network_pages plugin is not in PLUGINS"
    netdir = site / "content" / settings.get("NETWORKS_PATH", "networks")
    if not list(netdir.glob("*.yaml")):
        return False, f"no network files in content/{settings.get('NETWORKS_PATH', 'networks')}/"
    return True, "networks plugin enabled"


def prepare_site(dest, count, style="real"):
    """A copy of the real site whose blog holds `count` synthetic post pairs, in `style`
    (bench.content); with style "site", `count` pairs copied from the site's own posts."""
    if dest.exists():
        shutil.rmtree(dest)
    copy_site(dest)
    content = dest / "content"
    if style == "site":
        own = sorted(p.name for p in (content / "blog").glob("*.md"))
        write_site_copies(content / "blog", count)
        return {"networks": None, "networks_note": "the site's own networks", "style": style, "kept_posts": own}
    ok, why = networks_available(dest)
    slugs = None
    info = {"networks": None, "networks_note": why}
    if ok:
        # Added beside the site's own networks (its pages may link to those).
        gen = content / site_settings(dest).get("NETWORKS_PATH", "networks") / "generated"
        slugs = write_networks(gen, NETWORK_COUNT)
        # the loader reads one directory: move them up next to the real ones
        for p in gen.glob("*.yaml"):
            p.rename(gen.parent / p.name)
        gen.rmdir()
        info["networks"] = len(slugs)
        info["networks_note"] = f"{len(slugs)} generated networks; each post names 1-2 and links one inline"
    keep = linked_posts(content, content / "blog")
    write_posts(content / "blog", count, networks=slugs, keep=keep, style=style)
    if style == "real":  # the pictures every fourth post shows, as a phone takes them (smaller)
        for n, rel in enumerate(PICTURES, 1):
            im, exif = phone_photo(1600, 1200, seed=n)
            (content / rel).parent.mkdir(parents=True, exist_ok=True)
            im.save(content / rel, "JPEG", quality=85, exif=exif)
    info["style"] = style
    info["kept_posts"] = sorted(keep)
    return info
