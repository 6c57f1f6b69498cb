"""GitHub login for the editor at /admin/ (Decap CMS's GitHub backend): two routes.

    GET /auth       Decap opens it in a pop-up (base_url + auth_endpoint): a fresh `state`
                    in a cookie, then off to GitHub's authorize page
    GET /callback   GitHub sends the editor back here with `code` and `state`: the code is
                    exchanged for a token at GitHub's token endpoint (with the client
                    secret), and the page hands the token to the editor window, by
                    Decap's postMessage handshake, on the site's origin only

Settings, from the environment (the routes answer 503 without the first two):

    FORMSERVICE_GITHUB_CLIENT_ID      the GitHub OAuth App's client id
    FORMSERVICE_GITHUB_CLIENT_SECRET  its client secret (never leaves this service)
    FORMSERVICE_GITHUB_URL            https://github.com (tests point it at a stand-in)
    FORMSERVICE_GITHUB_SCOPE          public_repo (enough for a public repository); repo
                                      for a private one (every private repository of the editor)

The token goes to the site's origin (FORMSERVICE_SITE_URL) alone: a page on another
origin that opens /auth gets nothing. The state cookie ties the callback to the browser
that started the login (no login CSRF); over TLS (directly, or as a trusted proxy says with
X-Forwarded-Proto) it is `__Host-` prefixed, Secure and HttpOnly. A state or code that is not
what GitHub and this service make gets a 400 page; each client may start and finish a few
logins a minute (429 past that), so no one can make the service post its client secret to
GitHub in a loop. Neither code, state nor token is logged (the access log drops query strings).
"""

import base64
import hashlib
import hmac
import html
import json
import logging
import os
import re
import secrets
from urllib.parse import urlencode

import httpx
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Route

from formservice import i18n
from formservice.config import origin_of
from formservice.i18n import N_, gettext

log = logging.getLogger(__name__)

STATE_COOKIE = "decap_oauth_state"  # over plain http (development)
SECURE_STATE_COOKIE = "__Host-decap_oauth_state"  # over TLS: Secure, Path=/, no Domain
SCOPES = {"repo", "public_repo"}
MSG_TITLE = N_("Signing in with GitHub")
MSG_DONE = N_("Signed in; this window closes by itself.")
MSG_FAILED = N_("Signing in with GitHub failed: %(why)s")
MSG_OPEN_EDITOR = N_("Open the editor and sign in from there:")
MSG_NOT_STARTED = N_("the sign-in was not started in this browser; try again")
MSG_UNREADABLE = N_("GitHub's answer could not be read; try again")
MSG_NO_CODE = N_("GitHub sent no code; try again")
MSG_NO_ANSWER = N_("GitHub did not answer; try again")
MSG_REFUSED = N_("GitHub refused the sign-in (%(why)s)")
MSG_TOO_MANY = N_("Too many sign-ins from your connection; wait a minute and try again.")
STATE = re.compile(r"[A-Za-z0-9_-]{43}")  # secrets.token_urlsafe(32)
CODE = re.compile(r"[A-Za-z0-9_.-]{1,200}")  # GitHub's codes are 20 hex digits; room to spare
LOGINS_PER_MINUTE = 10  # per client, /auth and /callback together
# Constant, so that the page's CSP can allow exactly this script by its hash; what changes
# (the message, the origin) is in the JSON element above it, which is not executed.
HANDSHAKE = """(function () {
  var data = JSON.parse(document.getElementById("decap-auth").textContent);
  var message = "authorization:github:" + data.status + ":" + JSON.stringify(data.content);
  if (!window.opener) { document.getElementById("note").hidden = false; return; }
  window.addEventListener("message", function receive(e) {
    if (e.origin !== data.origin || e.data !== "authorizing:github") { return; }
    window.removeEventListener("message", receive);
    window.opener.postMessage(message, data.origin);
  });
  window.opener.postMessage("authorizing:github", data.origin);
})();"""
HANDSHAKE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(HANDSHAKE.encode()).digest()).decode()
# In the editors' language: the site's default language (its texts in the site's catalogue).
PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head><meta charset="utf-8"><title>{title}</title></head>
<body>
<p>{text}</p>
<p id="note" hidden>{note} <a href="{admin}">{admin}</a></p>
<script type="application/json" id="decap-auth">{data}</script>
<script>{script}</script>
</body>
</html>
"""


class GitHubLogin:
    """`is_https(request)`: whether the editor came over TLS (the service believes a trusted
    proxy's X-Forwarded-Proto); `client_key(request)` and `limiter` (a RateLimiter): who the
    client is, and how many logins it may start or finish."""

    def __init__(self, site_url, environ=None, is_https=None, client_key=None, limiter=None):
        env = os.environ if environ is None else environ
        self.client_id = env.get("FORMSERVICE_GITHUB_CLIENT_ID") or None
        self.client_secret = env.get("FORMSERVICE_GITHUB_CLIENT_SECRET") or None
        self.github = (env.get("FORMSERVICE_GITHUB_URL") or "https://github.com").rstrip("/")
        self.scope = env.get("FORMSERVICE_GITHUB_SCOPE") or "public_repo"
        self.is_https = is_https or (lambda request: request.url.scheme == "https")
        self.client_key = client_key or (lambda request: request.client.host if request.client else "")
        self.limiter = limiter
        if self.scope not in SCOPES:
            raise ValueError(f"FORMSERVICE_GITHUB_SCOPE must be one of {', '.join(sorted(SCOPES))}, not {self.scope!r}")
        if origin_of(self.github) is None:
            raise ValueError(f"FORMSERVICE_GITHUB_URL is not an http(s) URL: {self.github!r}")
        self.site_origin = origin_of(site_url)
        self.admin_url = f"{site_url.rstrip('/')}/admin/"

    @property
    def configured(self):
        return bool(self.client_id and self.client_secret)

    def not_configured(self):
        return PlainTextResponse("GitHub login is not set up on this server (FORMSERVICE_GITHUB_CLIENT_ID and "
                                 "FORMSERVICE_GITHUB_CLIENT_SECRET).\n", status_code=503,
                                 headers={"Cache-Control": "no-store"})

    def too_many(self, request):
        """A 429 page when this client started or finished too many logins lately, else None."""
        if self.limiter is None:
            return None
        allowed, wait = self.limiter.take(self.client_key(request))
        if allowed:
            return None
        return PlainTextResponse(gettext(i18n.site().default, MSG_TOO_MANY) + "\n", status_code=429,
                                 headers={"Retry-After": str(wait), "Cache-Control": "no-store"})

    def cookie_name(self, request):
        return SECURE_STATE_COOKIE if self.is_https(request) else STATE_COOKIE

    async def auth(self, request):
        if not self.configured:
            return self.not_configured()
        limited = self.too_many(request)
        if limited is not None:
            return limited
        if request.query_params.get("provider", "github") != "github":
            return PlainTextResponse("Only the github provider is served here.\n", status_code=400)
        state = secrets.token_urlsafe(32)
        query = urlencode({"client_id": self.client_id, "scope": self.scope, "state": state})
        response = RedirectResponse(f"{self.github}/login/oauth/authorize?{query}", status_code=302,
                                    headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
        if self.is_https(request):
            response.set_cookie(SECURE_STATE_COOKIE, state, max_age=600, path="/", httponly=True, secure=True,
                                samesite="lax")
        else:
            response.set_cookie(STATE_COOKIE, state, max_age=600, path="/callback", httponly=True, samesite="lax")
        return response

    async def exchange(self, code, lang):
        """The token for `code`, or (None, why) (why in `lang`)."""
        try:
            async with httpx.AsyncClient(timeout=15) as client:
                r = await client.post(f"{self.github}/login/oauth/access_token",
                                      data={"client_id": self.client_id, "client_secret": self.client_secret,
                                            "code": code},
                                      headers={"Accept": "application/json"})
            body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        except (httpx.HTTPError, ValueError) as e:
            log.warning("GitHub login: the token endpoint did not answer (%s)", type(e).__name__)
            return None, gettext(lang, MSG_NO_ANSWER)
        token = body.get("access_token") if r.status_code == 200 and isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            why = body.get("error", f"HTTP {r.status_code}") if isinstance(body, dict) else f"HTTP {r.status_code}"
            log.warning("GitHub login refused by the token endpoint: %s", str(why)[:80])
            return None, gettext(lang, MSG_REFUSED, why=str(why)[:80])
        return token, None

    async def callback(self, request):
        if not self.configured:
            return self.not_configured()
        limited = self.too_many(request)
        if limited is not None:
            return limited
        state = request.query_params.get("state", "")
        expected = request.cookies.get(self.cookie_name(request), "")
        code = request.query_params.get("code", "")
        lang = i18n.site().default
        if not (STATE.fullmatch(state) and STATE.fullmatch(expected)
                and hmac.compare_digest(state.encode(), expected.encode())):
            status, content, token = "error", gettext(lang, MSG_NOT_STARTED), None
        elif code and not CODE.fullmatch(code):
            status, content, token = "error", gettext(lang, MSG_UNREADABLE), None
        elif not code:
            why = request.query_params.get("error", "")
            status, content, token = "error", (why if CODE.fullmatch(why) else gettext(lang, MSG_NO_CODE)), None
        else:
            token, why = await self.exchange(code, lang)
            status, content = ("success", {"token": token, "provider": "github"}) if token else ("error", why)
        data = json.dumps({"status": status, "content": content, "origin": self.site_origin})
        page = PAGE.format(lang=html.escape(lang), title=html.escape(gettext(lang, MSG_TITLE)),
                           note=html.escape(gettext(lang, MSG_OPEN_EDITOR)),
                           text=html.escape(gettext(lang, MSG_DONE) if token else
                                            gettext(lang, MSG_FAILED, why=content)),
                           admin=html.escape(self.admin_url), script=HANDSHAKE,
                           data=data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
        response = HTMLResponse(page, status_code=200 if token else 400, headers={
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": f"default-src 'none'; script-src '{HANDSHAKE_HASH}'; base-uri 'none'; "
                                       "form-action 'none'; frame-ancestors 'none'",
        })
        if self.is_https(request):
            response.delete_cookie(SECURE_STATE_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
        else:
            response.delete_cookie(STATE_COOKIE, path="/callback")
        return response


def routes(site_url, environ=None, is_https=None, client_key=None, limiter=None):
    """The two routes, for create_app's route list."""
    login = GitHubLogin(site_url, environ, is_https, client_key, limiter)
    return [Route("/auth", login.auth, methods=["GET"]), Route("/callback", login.callback, methods=["GET"])]
