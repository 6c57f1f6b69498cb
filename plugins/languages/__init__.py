"""Languages: one Pelican run per site language, all writing into one output tree.

The first entry of ``LANGUAGES`` is the primary language and lives at the site root;
every other language lives under its ``prefix``. The build task runs Pelican once per
language with ``DEFAULT_LANG`` set to that language. In each run this plugin

* derives the URL settings from the language's prefix and URL words,
* installs the language's gettext catalogue (theme/translations/<lang>/LC_MESSAGES/
  messages.po, compiled in memory) and Babel date filters into Jinja,
* leaves content written in other languages to the run of that language: such items
  keep their own URL (so listings can link to them, marked with hreflang) and are
  never written twice,
* writes the Atom feed of this language's posts only,
* gives templates ``alternates(obj)``: the (lang, url) pairs behind hreflang and the
  language switcher.
"""

from .languages import register  # noqa: F401
