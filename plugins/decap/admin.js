// The site's own part of the editor (loaded after decap-cms.js; the build prepends
// window.SITE_LANGUAGES). One widget, "site-language": every Markdown file says its
// language (`lang: nl`), and with Decap's i18n each language has its own pane, so the
// value is the pane's locale, set by the widget and not typed by the editor.
(function () {
  "use strict";
  var CMS = window.CMS, h = window.h, createClass = window.createClass;

  var SiteLanguageControl = createClass({
    componentDidMount: function () { this.sync(); },
    componentDidUpdate: function () { this.sync(); },
    sync: function () {
      var locale = this.props.locale;
      if (locale && this.props.value !== locale) {
        this.props.onChange(locale);
      }
    },
    isValid: function () {
      return this.props.value === this.props.locale ||
        { error: { message: "lang must be " + this.props.locale } };
    },
    render: function () {
      var code = this.props.locale || this.props.value || "";
      var name = (window.SITE_LANGUAGES || {})[code] || code;
      return h("p", { id: this.props.forID, className: this.props.classNameWrapper,
                      "data-site-language": code }, name + " (" + code + ")");
    }
  });

  var SiteLanguagePreview = createClass({
    render: function () { return h("span", {}, this.props.value || ""); }
  });

  CMS.registerWidget("site-language", SiteLanguageControl, SiteLanguagePreview);
})();
