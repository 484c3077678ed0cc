"""Who is signed in to the console, and the sign-in and sign-out pages.

An admin key (``CONNECTOR_ADMIN_KEYS``) sees every connection; a connection's console key
(``inbound.console_keys`` in the connections file) sees only that connection's messages and
account. In the open sandbox (no Kaleyra account, no API or admin keys) anyone may open the
console, as anyone may call the API.

The session keeps no key: it keeps which kind of principal signed in and an HMAC of the key's
SHA-256 digest under the session's key. Each request checks that fingerprint against the keys
configured now, so removing a key signs out its sessions at the next restart.

Failed sign-ins are counted per client address in the store (so the limit holds across gunicorn
workers and hosts): after ``LIMIT`` failures within ``WINDOW_MS`` every sign-in from that address,
even with the right key, is refused until the oldest failure leaves the window.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response as BaseResponse

from ...connections import Connection, digest
from ...logs import log
from ...offer import wall_clock_ms
from .security import Refusal
from .session import console

LIMIT = 5
WINDOW_MS = 60_000
logger = logging.getLogger("connector.console")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    kind: str  # "admin" | "connection" | "open"
    connection: str | None = None  # for "connection"
    account: str | None = None

    @property
    def admin(self) -> bool:
        return self.kind in ("admin", "open")

    @property
    def accounts(self) -> tuple[str, ...] | None:
        """The Kaleyra accounts whose messages this principal sees; None: all."""
        return None if self.admin else (self.account or "",)

    @property
    def label(self) -> str:
        if self.kind == "connection":
            return f"connection {self.connection}"
        return "admin" if self.kind == "admin" else "open sandbox"

    def sees(self, account: str) -> bool:
        return self.admin or account == self.account

    def connections(self) -> list[Connection]:
        every = list(current_app.extensions["lto"].connections)
        return every if self.admin else [c for c in every if c.name == self.connection]


def fingerprint(key_digest: str) -> str:
    secret = str(current_app.secret_key).encode()
    return hmac.new(secret, key_digest.encode(), hashlib.sha256).hexdigest()[:32]


def open_sandbox() -> bool:
    runtime = current_app.extensions["lto"]
    return runtime.connections.open is not None and not runtime.settings.admin_keys


def principal_for_key(key: str) -> tuple[Principal, str] | None:
    """(principal, fingerprint) for a key typed at sign-in; None for an unknown key."""
    runtime = current_app.extensions["lto"]
    admin = False
    for known in runtime.settings.admin_keys:  # every key compared: no early exit
        admin |= hmac.compare_digest(key.encode(), known.encode())
    if admin:
        return Principal("admin"), fingerprint(digest(key))
    connection = runtime.connections.by_console_key(key)
    if connection is not None:
        found = Principal("connection", connection.name, connection.account.name)
        return found, fingerprint(digest(key))
    return None


def current_principal() -> Principal | None:
    """The session's principal, if its key is still configured."""
    kind, fp = session.get("who"), session.get("fp")
    if not isinstance(fp, str) or not session.get("sid"):
        return None
    runtime = current_app.extensions["lto"]
    if kind == "open":
        return Principal("open") if open_sandbox() and fp == "open" else None
    if kind == "admin":
        digests = [digest(k) for k in runtime.settings.admin_keys]
        return Principal("admin") if _any_matches(fp, digests) else None
    if kind == "connection":
        connection = runtime.connections.all.get(session.get("connection"))
        if connection is not None and _any_matches(fp, connection.inbound.console_keys):
            return Principal("connection", connection.name, connection.account.name)
    return None


def _any_matches(fp: str, digests: Any) -> bool:
    matched = False
    for key_digest in digests:
        matched |= hmac.compare_digest(fp, fingerprint(key_digest))
    return matched


def principal() -> Principal:
    found: Principal = g.principal
    return found


def signed_in(view: F) -> F:
    """Only for a signed-in principal; others go to the sign-in page (and come back after)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if g.get("principal") is None:
            target = request.full_path if request.method == "GET" else None
            return redirect(url_for("console.sign_in", next=target), 303)
        return view(*args, **kwargs)

    return cast(F, wrapper)


def safe_next(target: str | None) -> str:
    """Only a path on this site; anything else goes to the messages list."""
    if (
        target
        and target.startswith("/")
        and not target.startswith(("//", "/\\"))
        and "\n" not in target
    ):
        return target
    return url_for("console.messages")


def client_address() -> str:
    return request.remote_addr or "unknown"


def register(bp: Blueprint) -> None:
    @bp.before_request
    def _load_principal() -> None:
        g.principal = current_principal()

    @bp.context_processor
    def _principal() -> dict[str, object]:
        return {"principal": g.get("principal")}

    @bp.get("/")
    def home() -> BaseResponse:
        target = "console.messages" if g.get("principal") else "console.sign_in"
        return redirect(url_for(target), 303)

    @bp.get("/sign-in")
    def sign_in() -> Any:
        if g.get("principal") is not None:
            return redirect(safe_next(request.args.get("next")), 303)
        return render_template(
            "console/sign_in.html", next=request.args.get("next", ""), open=open_sandbox()
        )

    @bp.post("/sign-in")
    def sign_in_post() -> Any:
        store = console().store
        client = client_address()
        now = wall_clock_ms()
        recent = store.failures_since(client, now - WINDOW_MS)
        if len(recent) >= LIMIT:
            log(logger, "console sign-in locked out", logging.WARNING, remote=client)
            wait = max(1, (recent[-LIMIT] + WINDOW_MS - now + 999) // 1000)
            raise Refusal(
                429,
                "Too many failed sign-ins",
                f"{LIMIT} sign-ins from your address failed within a minute. "
                f"Try again in {wait} seconds.",
                {"Retry-After": str(wait)},
            )
        found: tuple[Principal, str] | None = None
        if request.form.get("open") and open_sandbox():
            found = Principal("open"), "open"
        else:
            key = (request.form.get("key") or "").strip()
            found = principal_for_key(key) if key else None
        if found is None:
            store.record_failure(client, now)  # the key itself is never logged
            log(logger, "console sign-in refused", logging.WARNING, remote=client)
            html = render_template(
                "console/sign_in.html",
                next=request.form.get("next", ""),
                open=open_sandbox(),
                error="That key is not an admin key or a console key of any connection.",
            )
            return html, 401
        who, fp = found
        session.clear()  # a new session: nothing from before sign-in carries over
        session.permanent = True
        session.update(
            who=who.kind,
            connection=who.connection,
            fp=fp,
            sid=secrets.token_hex(16),
            since=now,
        )
        log(logger, "console sign-in", principal=who.label, remote=client)
        flash(f"Signed in as {who.label}.", "ok")
        return redirect(safe_next(request.form.get("next")), 303)

    @bp.post("/sign-out")
    def sign_out() -> BaseResponse:
        session.clear()
        flash("Signed out.", "ok")
        return redirect(url_for("console.sign_in"), 303)
