"""Kaleyra's WhatsApp callbacks: ``/callbacks/kaleyra/<connection>[/<token>]``.

A Kaleyra callback profile can carry a secret three ways, all accepted: in the URL's path
(``/callbacks/kaleyra/acme/<token>``), as Basic auth (any username, the token as password), or
in an extra header (``X-Callback-Token``). GET (the variables in the query), POST and PUT (a
JSON body, a form, or the query) in either documented shape (``reports.parse``). The reports
are committed (shared with other callbacks in one group commit) before the 200, so Kaleyra's
callback is answered fast and nothing it told us is lost.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError

from ..errors import InvalidInput, MalformedBody, Unauthorized
from ..jsonio import JsonRefused, parse_json
from ..logs import log
from ..platforms.base import json_response
from ..reports.parse import parse_reports
from ..store.events import now_ms
from ..store.queue_ops import QueueOp

METHODS = ["GET", "POST", "PUT"]
logger = logging.getLogger("connector.reports")


def callbacks_blueprint() -> Blueprint:
    bp = Blueprint("callbacks", __name__)

    @bp.route("/callbacks/kaleyra/<connection>", methods=METHODS)
    @bp.route("/callbacks/kaleyra/<connection>/<token>", methods=METHODS)
    def kaleyra_callback(connection: str, token: str | None = None) -> Response:
        runtime = current_app.extensions["lto"]
        account = _authorised(runtime, connection, token)
        try:
            reports = parse_reports(_variables())
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        stamp = now_ms()
        result = runtime.store.queue(
            QueueOp(
                "apply_reports",
                {"account": account, "reports": [r.to_json() for r in reports], "now": stamp},
            )
        )
        log(
            logger,
            "delivery_report",
            connection=account,
            statuses=",".join(r.status for r in reports),
            level=logging.DEBUG,
            **result,
        )
        return json_response({"received": len(reports), **result})

    return bp


def _authorised(runtime: Any, name: str, token: str | None) -> str:
    connection = runtime.connections.all.get(name)
    given = token or request.headers.get("X-Callback-Token")
    if given is None and request.authorization is not None:
        given = request.authorization.password
    expected = connection.reports.callback_token if connection is not None else None
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Unauthorized(
            "Unknown connection or wrong callback token: give the connection's "
            "reports.callback_token in the URL path, as the Basic auth password or in "
            "X-Callback-Token."
        )
    return str(connection.account.name)


def _variables() -> Any:
    """The callback's variables: a JSON body, a form, else the query string."""
    raw = request.get_data(cache=True)
    if request.method != "GET" and raw.strip():
        if request.mimetype == "application/x-www-form-urlencoded":
            return request.form.to_dict()
        try:
            return parse_json(raw)
        except JsonRefused as exc:
            raise MalformedBody(f"The callback body is not JSON: {exc}") from None
    if not request.args:
        raise MalformedBody("The callback carries no variables (neither a body nor a query).")
    return request.args.to_dict()
