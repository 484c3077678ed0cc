"""A real HTTP server on loopback that speaks the parts of HubSpot's API the connector uses, from
HubSpot's documentation: OAuth 2.0 (``POST /oauth/v1/token`` form-encoded, for the
``authorization_code`` and ``refresh_token`` grants; ``GET /oauth/v1/access-tokens/{token}``,
which answers the token's ``hub_id``) and completing a blocked workflow action
(``POST /automation/v4/actions/callbacks/{callbackId}/complete`` with a bearer token).

``authorize`` plays the installing user approving the app on HubSpot's consent page: it answers
the code HubSpot would append to the redirect. Every request is recorded; tokens expire when the
test says so (``expire``), callbacks when it marks them gone.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.kaleyra_fake import QuietHandler, Recorded

CLIENT_ID = "5f3a4b1c-0000-4000-8000-00000000c11d"
EXPIRES_IN = 1800  # seconds: HubSpot's access tokens last 30 minutes


@dataclass
class Grant:
    portal_id: int
    redirect_uri: str
    scopes: list[str]


@dataclass
class Completed:
    callback_id: str
    body: Any
    portal_id: int


@dataclass
class FakeHubSpot:
    client_secret: str
    client_id: str = CLIENT_ID
    requests: list[Recorded] = field(default_factory=list)
    completed: list[Completed] = field(default_factory=list)
    gone_callbacks: set[str] = field(default_factory=set)
    access: dict[str, int] = field(default_factory=dict)  # live access token → portal
    refresh: dict[str, int] = field(default_factory=dict)  # refresh token → portal
    codes: dict[str, Grant] = field(default_factory=dict)
    answers: list[int] = field(default_factory=list)  # statuses to answer completions with first

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the user and HubSpot do outside the API -----------------------------------------
    def authorize(self, query: dict[str, str], portal_id: int) -> str:
        """The user approves the app for ``portal_id`` on the consent page: the code."""
        assert query["client_id"] == self.client_id
        code = secrets.token_hex(16)
        self.codes[code] = Grant(portal_id, query["redirect_uri"], query["scope"].split())
        return code

    def expire(self, access_token: str) -> None:
        """The access token expires (or is revoked): HubSpot answers 401 to it."""
        self.access.pop(access_token, None)

    def token_of(self, portal_id: int) -> str | None:
        return next((t for t, p in self.access.items() if p == portal_id), None)

    # --- the API ------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        record = Recorded(handler.command, handler.path, dict(handler.headers.items()),
                          handler.rfile.read(length))  # fmt: skip
        with self._lock:
            self.requests.append(record)
            status, answer = self._answer(record)
        payload = b"" if answer is None else json.dumps(answer).encode()
        handler.send_response(status)
        if answer is not None:
            handler.send_header("Content-Type", "application/json;charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, record: Recorded) -> tuple[int, Any]:
        path = urlsplit(record.path).path
        if record.method == "POST" and path == "/oauth/v1/token":
            return self._token(record)
        if record.method == "GET" and path.startswith("/oauth/v1/access-tokens/"):
            portal = self.access.get(unquote(path.rsplit("/", 1)[1]))
            if portal is None:
                return 404, {"status": "error", "message": "The token was not found."}
            return 200, {"token_type": "access", "hub_id": portal, "app_id": 1234567,
                         "scopes": ["automation", "oauth"], "expires_in": EXPIRES_IN,
                         "hub_domain": f"portal-{portal}.example.com", "user_id": 42}  # fmt: skip
        prefix, suffix = "/automation/v4/actions/callbacks/", "/complete"
        if record.method == "POST" and path.startswith(prefix) and path.endswith(suffix):
            return self._complete(record, unquote(path[len(prefix) : -len(suffix)]))
        return 404, {"status": "error", "message": "Not found"}

    def _token(self, record: Recorded) -> tuple[int, Any]:
        form = record.form
        content_type = record.headers.get("Content-Type", "")
        if not content_type.startswith("application/x-www-form-urlencoded"):
            return 415, {"status": "error", "message": "Unsupported Media Type"}
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return 400, {"status": "BAD_CLIENT_ID", "message": "missing or invalid client id"}
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.pop(form.get("code", ""), None)  # a code is used once
            if grant is None:
                return 400, {"status": "BAD_AUTH_CODE", "message": "missing or unknown auth code"}
            if form.get("redirect_uri") != grant.redirect_uri:
                return 400, {"status": "BAD_REDIRECT_URI", "message": "redirect_uri mismatch"}
            return 200, self._issue(grant.portal_id, secrets.token_hex(18))
        if form.get("grant_type") == "refresh_token":
            portal = self.refresh.get(form.get("refresh_token", ""))
            if portal is None:
                return 400, {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown "
                             "refresh token"}  # fmt: skip
            return 200, self._issue(portal, form["refresh_token"])
        return 400, {"status": "BAD_GRANT_TYPE", "message": "unknown grant_type"}

    def _issue(self, portal_id: int, refresh_token: str) -> dict[str, Any]:
        access = "CN" + secrets.token_urlsafe(24)
        self.access[access] = portal_id
        self.refresh[refresh_token] = portal_id
        return {"token_type": "bearer", "access_token": access, "refresh_token": refresh_token,
                "expires_in": EXPIRES_IN}  # fmt: skip

    def _complete(self, record: Recorded, callback_id: str) -> tuple[int, Any]:
        auth = record.headers.get("Authorization", "")
        portal = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if portal is None:
            return 401, {"status": "error", "message": "Authentication credentials not found.",
                         "category": "INVALID_AUTHENTICATION"}  # fmt: skip
        if self.answers:
            return self.answers.pop(0), {"status": "error", "message": "scripted"}
        if callback_id in self.gone_callbacks:
            return 404, {"status": "error", "message": f"Callback {callback_id} not found"}
        body = record.json
        if not isinstance(body.get("outputFields"), dict):
            return 400, {"status": "error", "message": "outputFields is required"}
        self.completed.append(Completed(callback_id, body, portal))
        return 204, None
