"""Stand-ins for GitHub on 127.0.0.1: its OAuth endpoints (FakeGitHub, plain HTTP, which the
form service reaches through FORMSERVICE_GITHUB_URL) and the few REST API calls the editor at
/admin/ makes after signing in (FakeGitHubAPI, over TLS with a throwaway certificate, reached as
api.github.com through Chromium's host resolver rules)."""

import http.server
import json
import ssl
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support import free_port, start_in_thread

CLIENT_ID, CLIENT_SECRET, TOKEN = "test-client-id", "test-client-secret-0123456789", "gho_test_token_abc"


class FakeGitHub:
    """GitHub's two OAuth endpoints on 127.0.0.1: authorize sends the browser straight back
    to the callback with a code; the token endpoint gives a token for that code (with the
    right client id and secret) and records what it was sent."""

    def __init__(self):
        self.callback = None
        self.token_requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                assert parts.path == "/login/oauth/authorize", self.path
                code = "good-code" if query.get("client_id") == [CLIENT_ID] else "no-client"
                self.send_response(302)
                self.send_header("Location", f"{fake.callback}?{urlencode({'code': code, 'state': query['state'][0]})}")
                self.end_headers()

            def do_POST(self):
                body = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                fake.token_requests.append(body)
                ok = body == {"client_id": [CLIENT_ID], "client_secret": [CLIENT_SECRET], "code": ["good-code"]}
                payload = {"access_token": TOKEN, "token_type": "bearer", "scope": "repo"} if ok else \
                    {"error": "bad_verification_code"}
                data = json.dumps(payload).encode()
                self.send_response(200)  # GitHub answers 200 with an "error" member too
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        start_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()




class FakeGitHubAPI:
    """GitHub's REST API as Decap's GitHub backend uses it right after sign-in: the user, the
    repository (with push permission) and an empty tree for every folder; every request is
    recorded with its Authorization header. Also serves `pages` ({path: html}) for other
    origins mapped to it."""

    def __init__(self, cert, repo, pages=None):
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _send(self, status, payload, content_type="application/json; charset=utf-8"):
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Cache-Control")
                self.send_header("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE")
                self.end_headers()
                self.wfile.write(data)

            def do_OPTIONS(self):
                self._send(204, "")

            def do_GET(self):
                path = urlsplit(self.path).path
                fake.requests.append((self.command, path, self.headers.get("Authorization")))
                if path in (pages or {}):
                    return self._send(200, pages[path], "text/html; charset=utf-8")
                if path == "/user":
                    return self._send(200, {"login": "redacteur", "name": "Redacteur", "id": 1, "avatar_url": ""})
                if path == f"/repos/{repo}":
                    return self._send(200, {"full_name": repo, "owner": {"login": repo.split("/")[0]},
                                            "name": repo.split("/")[1], "default_branch": "main", "private": False,
                                            "permissions": {"admin": False, "push": True, "pull": True}})
                if path.startswith(f"/repos/{repo}/git/trees/"):
                    return self._send(200, {"sha": "0" * 40, "tree": [], "truncated": False})
                return self._send(404, {"message": "Not Found"})

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert.cert, cert.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        start_in_thread(self.server)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
