"""Writing only the pages that show some posts (PUBLISHING_WRITE_ONLY), for the editing loop.

When an editor saves a post, the development server first runs the changed languages with
``PUBLISHING_WRITE_ONLY`` = the saved files (sitebuild.build.show_changes_first): every file is
read and checked as in any run (a content mistake fails it the same way), but a post's page is
written only for the saved posts and their translations, and a page of a paginated listing
(the blog, a tag, a category, an author) only when it lists one of them. Everything else is
written as always: the site's pages (the home page lists the latest posts), the networks'
pages, the lists of tags, categories, authors, the archive and the feeds, which are few; not
the editor at /admin/ (plugins/decap), which no post changes. The full build follows, in the
background, and makes every page anew.

Pelican had this as WRITE_SELECTED (by output path) until 4.12 removed it; choosing by post
also finds the listing pages the post is on.
"""

import os

from pelican import writers as pelican_writers
from pelican.utils import sanitised_join
from pelican.writers import Writer

from buildcheck.links import content_items


class _Skipped:
    """Stands in for a file the writer opens for a page it does not write."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def write(self, text):
        return len(text)


class _Template:
    """A template that renders a page of a paginated listing only if it lists a chosen post."""

    def __init__(self, template, writer):
        self.template, self.writer = template, writer

    def render(self, context):
        page = context.get("articles_page")
        if page is not None and not self.writer.shows_chosen(page.object_list):
            self.writer.skipping = True
            return ""
        self.writer.skipping = False
        return self.template.render(context)

    def __getattr__(self, name):
        return getattr(self.template, name)


class SelectiveWriter(Writer):
    """Pelican's writer, writing only the pages that show the chosen posts (see the module)."""

    skipping = False

    @property
    def chosen_keys(self):
        """Translation keys (or source paths) of the chosen posts: choose() sets them once every file is read."""
        return self.settings.get("PUBLISHING_CHOSEN_KEYS")

    def shows_chosen(self, items):
        return any(_key(item) in self.chosen_keys for item in items)

    def write_file(self, name, template, context, relative_urls=False, paginated=None, template_name=None,
                   override_output=False, url=None, **kwargs):
        if self.chosen_keys is None:
            return super().write_file(name, template, context, relative_urls, paginated, template_name,
                                      override_output, url, **kwargs)
        article = kwargs.get("article")
        if article is not None and not self.shows_chosen([article]):
            return None  # another post's page
        # Pelican's writer makes a page's directory after rendering the page and before opening
        # its file: a page of a listing that is skipped gets the output's own directory instead
        # (hundreds of empty directories otherwise, made and removed at every save).
        pelican_writers.sanitised_join = self._join
        try:
            return super().write_file(name, _Template(template, self), context, relative_urls, paginated,
                                      template_name, override_output, url, **kwargs)
        finally:
            pelican_writers.sanitised_join = sanitised_join
            self.skipping = False

    def _join(self, output_path, name):
        return sanitised_join(output_path, _SKIPPED if self.skipping else name)

    def _open_w(self, filename, encoding, override=False):
        if self.skipping:
            return _Skipped()
        return super()._open_w(filename, encoding, override)


_SKIPPED = "skipped.html"  # never opened: _open_w gives a _Skipped for it


def _key(item):
    return getattr(item, "translation_key", None) or item.source_path


def get_writer(pelican):
    if pelican.settings.get("PUBLISHING_WRITE_ONLY"):
        return SelectiveWriter
    return None


def choose(generators):
    """Once every file is read: the translation keys of the saved posts (all their languages)."""
    settings = generators[0].settings
    only = settings.get("PUBLISHING_WRITE_ONLY")
    if not only:
        return
    wanted = {os.path.abspath(p) for p in only}

    settings["PUBLISHING_CHOSEN_KEYS"] = {_key(item) for item in content_items(generators[0].context)
                                   if os.path.abspath(item.source_path) in wanted}
