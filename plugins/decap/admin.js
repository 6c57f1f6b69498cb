// The site's own part of the editor (loaded after decap-cms.js; the build prepends
// window.SITE_LANGUAGES, the site's languages, the primary one first).
//
// * "site-language": with Decap's i18n each language has its own pane; the widget writes the
//   pane's language as `lang: nl`, so it is never typed.
// * No file for a language nobody wrote in. Decap writes a file for every language of a new
//   entry, and one for every language a shared value (`i18n: duplicate`: translation key,
//   date...) was copied into: for a post written in Dutch only, an `x.en.md` without a title,
//   which the build would refuse. The backends (GitHub; decap-server's "proxy" in
//   development) are given only the language versions that have a title.
(function () {
  "use strict";
  var CMS = window.CMS, h = window.h, createClass = window.createClass;
  var LANGUAGES = Object.keys(window.SITE_LANGUAGES || {});

  var SiteLanguageControl = createClass({
    componentDidMount: function () { this.sync(); },
    componentDidUpdate: function () { this.sync(); },
    sync: function () {
      var locale = this.props.locale || LANGUAGES[0];
      if (this.props.value !== locale) {
        this.props.onChange(locale);
      }
    },
    render: function () {
      var code = this.props.locale || LANGUAGES[0];
      var name = (window.SITE_LANGUAGES || {})[code] || code;
      return h("p", { id: this.props.forID, className: this.props.classNameWrapper,
                      "data-site-language": code }, name + " (" + code + ")");
    }
  });

  var SiteLanguagePreview = createClass({
    render: function () { return h("span", {}, this.props.value || ""); }
  });

  // A language version of a post or page (x.nl.md, x.en.md) that has no title in its front matter.
  var VERSION = new RegExp("\\.(" + LANGUAGES.join("|") + ")\\.md$");
  function untitledVersion(file) {
    if (!VERSION.test(file.path || "")) { return false; }
    var raw = String(file.raw || "");
    var header = /^---\n([\s\S]*?)\n---/.exec(raw);
    return !(header && /^title:[ \t]*\S/m.test(header[1]));
  }

  ["github", "proxy"].forEach(function (name) {
    var backend = CMS.getBackend(name);
    if (!backend) { return; }
    var init = backend.init;
    backend.init = function () {
      var implementation = init.apply(this, arguments);
      var persist = implementation.persistEntry.bind(implementation);
      implementation.persistEntry = function (entry, options) {
        var files = (entry.dataFiles || []).filter(function (f) { return !untitledVersion(f); });
        return persist(Object.assign({}, entry, { dataFiles: files }), options);
      };
      return implementation;
    };
  });

  CMS.registerWidget("site-language", SiteLanguageControl, SiteLanguagePreview);
})();
