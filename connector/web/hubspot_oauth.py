"""Installing the HubSpot app in a portal: ``GET /oauth/hubspot/install`` sends the user to
HubSpot's consent page; HubSpot sends them back to ``GET /oauth/hubspot/callback`` with a code,
which is exchanged for the portal's tokens (stored encrypted, ``store/hubspot_tokens.py``).

``state`` is signed (itsdangerous, with the app's client secret, 10 minutes) and carries a nonce
that must match the cookie set on the same browser by ``install``: a callback that did not start
here, or was replayed in another browser, is refused. No page or log line shows a token.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from html import escape
from typing import Any

import urllib3
from flask import Blueprint, Response, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ..errors import ConnectorError, InvalidInput, NotConfigured
from ..hubspot_oauth import PortalAuth, authorize_url, portal_auth
from ..logs import log
from ..platforms.base import Runtime

logger = logging.getLogger("connector.hubspot")
COOKIE = "lto_hubspot_oauth"
STATE_MAX_AGE_S = 600
STATE_SALT = "lto-connector.hubspot-oauth-state"


class _Callback(Schema):
    class Meta:
        unknown = EXCLUDE

    code = fields.String(load_default=None, validate=validate.Length(min=1, max=2048))
    state = fields.String(required=True, validate=validate.Length(min=1, max=2048))
    error = fields.String(load_default=None)
    error_description = fields.String(load_default=None)


CALLBACK = _Callback()


def invalid_state(message: str) -> ConnectorError:
    return ConnectorError(
        f"state: {message} Start the installation again from /oauth/hubspot/install.",
        code="invalid_state",
        status=400,
        errors={"state": [{"code": "invalid_state", "message": message}]},
    )


def hubspot_oauth_blueprint(runtime: Runtime) -> Blueprint:
    bp = Blueprint("hubspot_oauth", __name__)
    settings = runtime.settings
    auth = portal_auth(settings, runtime.store.db, urllib3.PoolManager(maxsize=4), runtime.clock)
    signer = URLSafeTimedSerializer(settings.hubspot_client_secret or "-", salt=STATE_SALT)
    secure = (settings.public_url or "").startswith("https://")

    def configured() -> PortalAuth:
        if auth is None:
            raise NotConfigured(
                "HubSpot OAuth is not configured: set HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, "
                "CONNECTOR_PUBLIC_URL and CONNECTOR_TOKEN_KEY"
            )
        return auth

    @bp.get("/oauth/hubspot/install")
    def install() -> Response:
        client = configured().client
        nonce = secrets.token_urlsafe(24)
        state = signer.dumps({"n": nonce})
        response = Response(status=302)
        response.headers["Location"] = authorize_url(client.app, client.public_url, state)
        response.set_cookie(COOKIE, nonce, max_age=STATE_MAX_AGE_S, path="/oauth/hubspot",
                            secure=secure, httponly=True, samesite="Lax")  # fmt: skip
        return response

    @bp.get("/oauth/hubspot/callback")
    def callback() -> Response:
        tokens = configured()
        try:
            args: dict[str, Any] = CALLBACK.load(request.args.to_dict())
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        check_state(args["state"], request.cookies.get(COOKIE))
        if args["error"] is not None:
            raise ConnectorError(
                f"HubSpot did not install the app: {args['error_description'] or args['error']}"[
                    :500
                ],
                code="hubspot_install_refused",
                status=400,
            )
        if args["code"] is None:
            raise InvalidInput(
                "code: HubSpot's redirect has no authorization code.",
                code="required",
                errors={"code": [{"code": "required", "message": "Missing data for required "
                                  "field."}]},
            )  # fmt: skip
        portal = tokens.client.exchange(args["code"])
        tokens.tokens.save(portal)
        log(logger, "hubspot app installed", portal_id=portal.portal_id)
        response = Response(success_page(portal.portal_id, runtime), mimetype="text/html")
        response.delete_cookie(COOKIE, path="/oauth/hubspot")
        response.headers["Cache-Control"] = "no-store"
        return response

    def check_state(state: str, nonce: str | None) -> None:
        try:
            data = signer.loads(state, max_age=STATE_MAX_AGE_S)
        except BadSignature as exc:  # also SignatureExpired, its subclass
            expired = type(exc).__name__ == "SignatureExpired"
            raise invalid_state(
                "The installation took more than 10 minutes." if expired
                else "It was not issued by this connector."
            ) from None  # fmt: skip
        expected = data.get("n") if isinstance(data, dict) else None
        if not isinstance(expected, str) or not nonce or not hmac.compare_digest(expected, nonce):
            raise invalid_state("It was issued to another browser (or its cookie is gone).")

    return bp


def success_page(portal_id: int, runtime: Runtime) -> str:
    connected = runtime.connections.by_portal(portal_id) is not None
    note = (
        ""
        if connected
        else "<p>This portal is not connected to a Kaleyra account yet: add "
        f"<code>{portal_id}</code> to a connection's <code>inbound.hubspot_portal_ids</code>.</p>"
    )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8><title>HubSpot connected</title>"
        f"<h1>HubSpot portal {escape(str(portal_id))} is connected</h1>"
        "<p>Workflows in this portal can now wait for a WhatsApp offer's delivery status. "
        f"You can close this page.</p>{note}</html>"
    )
