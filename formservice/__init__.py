"""The KNN Advies form service: receives, validates, stores and forwards join requests.

It speaks the site's languages and sends visitors to the site's pages as the site's settings
define them (core.site, read through formservice.i18n). See formservice.cli for the commands
and formservice.app for the HTTP API.
"""
