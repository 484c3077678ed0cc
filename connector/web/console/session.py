"""The console's session: a signed cookie, and the key that signs it.

The cookie is Flask's signed session (``itsdangerous``), named ``lto_console``: HttpOnly,
SameSite=Strict, Secure whenever the request came over HTTPS (directly, or through a proxy that
says so in ``X-Forwarded-Proto``), and valid for eight hours from sign-in.

The signing key is ``CONNECTOR_SECRET_KEY`` when it is set. Otherwise it is a random key kept in the
store (``lto_console_secrets``), created by the first process that starts: gunicorn runs several
worker processes and the connector may run on several hosts, and a random key per process would
make one worker refuse the session (and every CSRF token) another worker signed. Sharing the
store's key needs no setting; anyone who can read the database could forge a session, but they can
read the messages already.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, Request, has_request_context, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface

from ...config import ConfigError
from ...store.console import ConsoleStore

COOKIE = "lto_console"
LIFETIME = timedelta(hours=8)
SECRET_MIN = 32


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ConsoleSettings:
        env = os.environ if env is None else env
        secret = env.get("CONNECTOR_SECRET_KEY", "").strip() or None
        if secret is not None and len(secret) < SECRET_MIN:
            raise ConfigError(
                [
                    f"CONNECTOR_SECRET_KEY must be at least {SECRET_MIN} characters "
                    "(e.g. `openssl rand -hex 32`), or unset to keep one in the store"
                ]
            )
        return cls(secret_key=secret)


@dataclass(frozen=True)
class Console:
    """What the console's views share, in ``app.extensions["lto_console"]``."""

    store: ConsoleStore
    settings: ConsoleSettings


class ConsoleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with the console's cookie rules."""

    def get_cookie_name(self, app: Flask) -> str:
        return COOKIE

    def get_cookie_path(self, app: Flask) -> str:
        return "/"

    def get_cookie_httponly(self, app: Flask) -> bool:
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        return "Strict"

    def get_cookie_secure(self, app: Flask) -> bool:
        return has_request_context() and request.is_secure

    def open_session(self, app: Flask, req: Request) -> SecureCookieSession | None:
        """A request with no cookie at all (every platform's webhook) starts an empty session
        without building the cookie's signer or parsing cookies: that was 7% of a webhook's
        time in Flask, for a session it never uses."""
        if app.secret_key and "Cookie" not in req.headers:
            return self.session_class()
        return super().open_session(app, req)


def setup(app: Flask | Any, settings: ConsoleSettings) -> None:
    """Called once when the console's blueprint is registered on the app."""
    runtime = app.extensions["lto"]
    store = ConsoleStore(runtime.store.db)
    store.prune()
    app.secret_key = settings.secret_key or store.secret("session")
    app.session_interface = ConsoleSessionInterface()
    app.permanent_session_lifetime = LIFETIME
    app.extensions["lto_console"] = Console(store=store, settings=settings)


def console() -> Console:
    from flask import current_app

    found: Console = current_app.extensions["lto_console"]
    return found
