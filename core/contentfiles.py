"""Every file under content/ accounted for: what the site reads, what it skips on purpose, and
one problem for each file that an editor meant for the site but that it would leave out without
a word (a post saved as `.md.txt`, a page in the wrong folder).

    problems = unaccounted(content, article_paths=["blog"], page_paths=["pages"],
                           static_paths=["images"], networks_path="networks")

The site reads Markdown files ending in `.md` from the posts' and the pages' folders, network
files ending in `.yaml` (or `.yml`) from the networks' folder, and anything from the static
folders (pictures). Skipped without a word: hidden files (a name starting with a dot: `.DS_Store`,
`.post.md.swp`), editors' backups and lock files (SKIPPED_PATTERNS) and the operating systems'
own files (SKIPPED_NAMES).
"""

import fnmatch
import os
import re
from pathlib import Path

from core.problem import Problem

#: Editors' backups, swap and lock files: what text editors and office programs leave beside a file.
SKIPPED_PATTERNS = ("*~", "*.swp", "*.swo", "*.swx", "*.bak", "*.orig", "*.tmp", "#*#", ".#*", "~$*")
#: Files an operating system puts in folders by itself.
SKIPPED_NAMES = ("Thumbs.db", "desktop.ini", "Icon\r")
#: Names an editor may give a Markdown file by mistake (case-insensitive), besides a wrong case of `.md`.
MARKDOWN_LIKE = (".md.txt", ".markdown", ".mdown", ".mkd", ".mkdn", ".mdwn", ".txt")


_SKIPPED = re.compile("|".join(fnmatch.translate(pattern) for pattern in SKIPPED_PATTERNS))  # fnmatchcase's


def skipped(name):
    """Whether the site skips a file of this name on purpose (without a word)."""
    return name.startswith(".") or name in SKIPPED_NAMES or _SKIPPED.match(name) is not None


def markdown_name(name):
    """The `.md` name a Markdown file saved under another name should have, or None when the
    name is not one of a Markdown file (kennisdag.nl.md.txt -> kennisdag.nl.md, x.MD -> x.md)."""
    lower = name.lower()
    for suffix in MARKDOWN_LIKE:
        if lower.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)] + ".md"
    if lower.endswith(".md") and not name.endswith(".md"):
        return name[:-3] + ".md"
    return None


def _under(rel, folders):
    return any(rel.parts[: len(Path(f).parts)] == Path(f).parts for f in folders)


def _files(content, markdown_folders):
    """The files under `content` (in sorted order, as Path.rglob's sorted), but those the site
    skips, in skipped folders, and the `.md` files of `markdown_folders` (read as they are):
    every run of the build goes through this, and most files are posts."""
    folders = {Path(f).parts for f in markdown_folders}
    files = []
    for dirpath, dirnames, filenames in os.walk(content):
        dirnames[:] = [d for d in dirnames if not skipped(d)]
        parts = Path(dirpath).relative_to(content).parts
        markdown = any(parts[: len(f)] == f for f in folders)
        for name in filenames:
            if skipped(name) or (markdown and name.endswith(".md")):
                continue
            path = Path(dirpath, name)
            if path.is_file():
                files.append(path)
    return sorted(files)


def unaccounted(content, article_paths, page_paths, static_paths, networks_path, shown_root=None):
    """One Problem per file under `content` that the site would leave out although it looks meant
    for it (see the module's docstring). `shown_root`: paths are shown relative to it (default:
    the folder that holds `content`)."""
    content = Path(content)
    shown_root = Path(shown_root) if shown_root else content.parent
    where = f"{Path(article_paths[0]).as_posix()}/" if article_paths else "blog/"
    pages = f"{Path(page_paths[0]).as_posix()}/" if page_paths else "pages/"
    problems = []
    for path in _files(content, article_paths + page_paths):
        rel = path.relative_to(content)
        shown = path.relative_to(shown_root).as_posix() if path.is_relative_to(shown_root) else str(path)
        name = path.name
        if _under(rel, static_paths):
            continue  # pictures and other files published as they are (the images plugin checks pictures)
        if _under(rel, [networks_path]):
            if path.suffix in (".yaml", ".yml"):
                continue
            fix = f"name it {Path(name).stem}.yaml" if path.suffix.lower() in (".yaml", ".yml", ".txt") else \
                f"a network is described in a file ending in .yaml, such as {Path(name).stem}.yaml"
            problems.append(Problem(shown, 1, 1, "file", f"not read: {fix}"))
            continue
        in_posts_or_pages = _under(rel, article_paths) or _under(rel, page_paths)
        better = markdown_name(name)
        if in_posts_or_pages:
            if path.suffix == ".md":
                continue
            if better is not None:
                problems.append(Problem(shown, 1, 1, "file",
                                        f"not read: a post or page is a Markdown file ending in .md: rename it "
                                        f"{better} (some editors add .txt or write .markdown)"))
            else:
                problems.append(Problem(shown, 1, 1, "file",
                                        f"not used by the site: {where} and {pages} hold Markdown files (.md); "
                                        "pictures go in content/images/"))
            continue
        if path.suffix == ".md" or better is not None:
            folder = pages if "page" in " ".join(rel.parts[:-1]).lower() else where
            problems.append(Problem(shown, 1, 1, "file",
                                    f"not published: a post goes in content/{where}, a page in content/{pages}: "
                                    f"move it there as content/{folder}{better or name}"))
        else:
            problems.append(Problem(shown, 1, 1, "file",
                                    f"not used by the site: posts go in content/{where}, pages in content/{pages}, "
                                    "pictures in content/images/, networks in content/networks/"))
    return problems
