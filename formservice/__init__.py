"""The KNN Advies form service: receives, validates, stores and forwards join requests.

See formservice.cli for the commands and formservice.app for the HTTP API.
"""

LANGUAGES = ("nl", "en")  # the first is the default
