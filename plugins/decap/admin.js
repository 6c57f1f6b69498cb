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

  // "site-date": a date as Dutch editors write and read it, day first (3-5-2025), whatever the
  // browser's language: Decap's own date widget is the browser's date field, which shows and
  // reads mm/dd/yyyy in an English browser. Typed as 3-5-2025, 03-05-2025, 3/5/2025, 3.5.2025,
  // 03052025 (day, month, year) or 2025-05-03; stored as 2025-05-03, as the build reads it.
  function parseDate(text) {
    var t = String(text || "").trim(), m, d, mo, y;
    if ((m = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(t))) { y = +m[1]; mo = +m[2]; d = +m[3]; }
    else if ((m = /^(\d{1,2})[-\/. ](\d{1,2})[-\/. ](\d{4})$/.exec(t))) { d = +m[1]; mo = +m[2]; y = +m[3]; }
    else if ((m = /^(\d{2})(\d{2})(\d{4})$/.exec(t))) { d = +m[1]; mo = +m[2]; y = +m[3]; }
    else { return null; }
    var date = new Date(Date.UTC(y, mo - 1, d));
    if (y < 1900 || y > 2200 || date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) {
      return null;
    }
    return y + "-" + (mo < 10 ? "0" : "") + mo + "-" + (d < 10 ? "0" : "") + d;
  }
  function showDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(String(iso || ""));
    return m ? (+m[3]) + "-" + (+m[2]) + "-" + m[1] : String(iso || "");
  }

  var SiteDateControl = createClass({
    getInitialState: function () { return { text: showDate(this.props.value) }; },
    componentDidUpdate: function (previous) {
      if (previous.value !== this.props.value && parseDate(this.state.text) !== this.props.value) {
        this.setState({ text: showDate(this.props.value) });  // set from elsewhere (another language pane)
      }
    },
    isValid: function () {
      if (!this.state.text.trim() || parseDate(this.state.text)) { return true; }
      return { error: { message: (window.SITE_TEXT || {}).date_message || "day-month-year, e.g. 3-5-2025" } };
    },
    handleChange: function (event) {
      var text = event.target.value;
      this.setState({ text: text });
      this.props.onChange(parseDate(text) || text);
    },
    handleBlur: function () {
      var iso = parseDate(this.state.text);
      if (iso) { this.setState({ text: showDate(iso) }); }
      if (this.props.setInactiveStyle) { this.props.setInactiveStyle(); }
    },
    render: function () {
      return h("input", {
        type: "text", id: this.props.forID, className: this.props.classNameWrapper, value: this.state.text,
        inputMode: "numeric", autoComplete: "off", placeholder: (window.SITE_TEXT || {}).date_placeholder || "d-m-yyyy",
        onChange: this.handleChange, onBlur: this.handleBlur,
        onFocus: this.props.setActiveStyle
      });
    }
  });
  var SiteDatePreview = createClass({
    render: function () { return h("span", {}, showDate(this.props.value)); }
  });

  // The editor's own words in the editor's language: Decap's locale, completed where it lacks a
  // phrase (window.SITE_PHRASES, plugins/decap/phrases/<locale>.json), and its two text
  // components (a picture, a code block), whose labels Decap writes in English only. A picture
  // is chosen from the site's own pictures: no "insert from URL" (the site refuses pictures
  // from other sites).
  function merged(into, more) {
    var out = Object.assign({}, into);
    Object.keys(more || {}).forEach(function (key) {
      out[key] = (more[key] && typeof more[key] === "object") ? merged(out[key] || {}, more[key]) : more[key];
    });
    return out;
  }
  if (window.SITE_LOCALE && window.SITE_PHRASES) {
    CMS.registerLocale(window.SITE_LOCALE, merged(CMS.getLocale(window.SITE_LOCALE) || {}, window.SITE_PHRASES));
  }
  var T = window.SITE_TEXT || {};
  var IMAGE = /^!\[([^\]]*)\]\((.*?)(\s"([^"]*)")?\)/;
  CMS.registerEditorComponent({
    id: "image",
    label: T.image || "Image",
    pattern: IMAGE,
    fromBlock: function (match) { return match && { image: match[2], alt: match[1], title: match[4] }; },
    toBlock: function (data) {
      return "![" + (data.alt || "") + "](" + (data.image || "") +
        (data.title ? " \"" + data.title.replace(/"/g, "\\\"") + "\"" : "") + ")";
    },
    toPreview: function (data, getAsset, fields) {
      var field = fields && fields.find(function (f) { return f.get("widget") === "image"; });
      return h("img", { src: getAsset(data.image, field) || "", alt: data.alt || "", title: data.title || "" });
    },
    fields: [
      { label: T.image || "Image", name: "image", widget: "image",
        media_library: { allow_multiple: false, choose_url: false }, choose_url: false },
      { label: T.image_alt || "Alt text", name: "alt" },
      { label: T.image_title || "Title", name: "title", required: false }
    ]
  });
  CMS.registerEditorComponent({ id: "code-block", label: T.code_block || "Code block", widget: "code", type: "code-block" });

  CMS.registerWidget("site-language", SiteLanguageControl, SiteLanguagePreview);
  CMS.registerWidget("site-image-alt", ImageAltControl, CMS.getWidget("string").preview);
  CMS.registerWidget("site-date", SiteDateControl, SiteDatePreview);
})();
