// The site's own part of the editor (loaded after decap-cms.js; the build prepends
// window.SITE_LANGUAGES, the site's languages, the primary one first, and window.SITE_TEXT,
// messages in the editor's language).
//
// * "site-language": with Decap's i18n each language has its own pane; the widget writes the
//   pane's language as `lang: nl`, so it is never typed.
// * No file for a language nobody wrote in. Decap writes a file for every language of a new
//   entry, and one for every language a shared value (`i18n: duplicate`: translation key,
//   date...) was copied into: for a post written in Dutch only, an `x.en.md` without a title,
//   which the build would refuse. The backends (GitHub; decap-server's "proxy" in
//   development) are given only the language versions that have a title.
// * "site-image-alt": a text field (image_alt) that is required once the entry has a share
//   picture (image), as the build requires. Decap checks the fields of the first pane only, so
//   a saved language version with an image: but no image_alt: is refused too, with a message.
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

  // The share picture's description: Decap's own text field, with a check that needs the entry.
  var StringControl = CMS.getWidget("string").control;
  function shareImage(entry, locale) {
    if (!entry) { return ""; }
    var inLocale = locale && entry.getIn(["i18n", locale, "data", "image"]);
    return inLocale || entry.getIn(["data", "image"]) || "";
  }
  var ImageAltControl = createClass({
    isValid: function () {
      var entry = this.props.getEntry ? this.props.getEntry() : this.props.entry;
      var value = String(this.props.value || "").trim();
      if (value || !shareImage(entry, this.props.locale)) { return true; }
      // PRESENCE: Decap also says, in its notice, that a required field is empty.
      return { error: { type: "PRESENCE", parentIds: this.props.parentIds,
                        message: (window.SITE_TEXT || {}).image_alt_message || this.props.field.get("label") } };
    },
    render: function () { return h(StringControl, this.props); }
  });

  // A language version of a post or page (x.nl.md, x.en.md) that has no title in its front matter.
  var VERSION = new RegExp("\\.(" + LANGUAGES.join("|") + ")\\.md$");
  function headerOf(file) {
    var header = /^---\n([\s\S]*?)\n---/.exec(String(file.raw || ""));
    return header ? header[1] : "";
  }
  function untitledVersion(file) {
    return VERSION.test(file.path || "") && !/^title:[ \t]*\S/m.test(headerOf(file));
  }
  function undescribedImage(file) {
    var header = headerOf(file);
    return VERSION.test(file.path || "") && /^image:[ \t]*\S/m.test(header) && !/^image_alt:[ \t]*\S/m.test(header);
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
        var undescribed = files.filter(undescribedImage);
        if (undescribed.length) {
          // Shown as Decap's "could not save" message: the build would refuse the file.
          return Promise.reject(new Error(undescribed.map(function (f) { return f.path; }).join(", ") +
            ": image_alt: " + ((window.SITE_TEXT || {}).image_alt_message || "describe the share picture")));
        }
        return persist(Object.assign({}, entry, { dataFiles: files }), options);
      };
      return implementation;
    };
  });

  CMS.registerWidget("site-language", SiteLanguageControl, SiteLanguagePreview);
  CMS.registerWidget("site-image-alt", ImageAltControl, CMS.getWidget("string").preview);
})();
