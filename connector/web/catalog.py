"""What an API key's connection is and offers: ``GET /v1/me`` and ``GET /v1/templates``.

The Zapier integration tests its connection with ``/v1/me`` and fills its template dropdown from
``/v1/templates``; both answer only the caller's own connection, and never a secret.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from ..connections import Connection
from ..errors import Unauthorized
from ..platforms.base import json_response, request_api_key
from ..templates import catalog


def caller(refusal: str = "") -> Connection:
    """The connection the request's API key belongs to (or the open sandbox's); else 401."""
    connections = current_app.extensions["lto"].connections
    connection = connections.by_api_key(request_api_key(request)) or connections.open
    if connection is None:
        raise Unauthorized(
            refusal
            or "Missing or unknown API key: send it as 'Authorization: Bearer <key>' "
            "or 'X-Api-Key: <key>'"
        )
    return connection


def catalog_blueprint() -> Blueprint:
    bp = Blueprint("catalog", __name__)

    @bp.get("/v1/me")
    def me() -> Response:
        connection = caller()
        defaults = connection.defaults
        return json_response(
            {
                "connection": connection.name,
                "account": connection.account.name,
                "sandbox": current_app.extensions["lto"].connections.sandbox,
                "defaults": {
                    "template_name": defaults.template_name,
                    "language": defaults.language,
                    "offer_lifetime": defaults.offer_lifetime,
                },
                "templates": len(catalog(connection.templates, defaults.template_name)),
            }
        )

    @bp.get("/v1/templates")
    def templates() -> Response:
        """A JSON array (what a Zapier dropdown trigger returns), one object per template."""
        connection = caller()
        return json_response(catalog(connection.templates, connection.defaults.template_name))

    return bp
