"""The Zapier trigger "Message status changed" (a REST hook), served for the integration.

``POST /v1/zapier/hooks`` subscribes a Zap's hook URL to the caller's connection (201 ``{"id"}``),
``DELETE /v1/zapier/hooks/<id>`` unsubscribes it, and ``GET /v1/zapier/status-changes`` lists the
connection's latest status changes in the shape the hook receives (``status_record``), for the
Zap editor's test. The API key picks the connection, exactly as for the create action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError, fields, validate
from sqlalchemy.exc import SQLAlchemyError

from .. import fields as f
from ..errors import Coded, ConnectorError, InvalidInput
from ..notify.record import status_record
from ..platforms.base import PlatformSchema, json_response, read_json, store_unavailable
from ..store.zapier_hooks import ZapierHooks
from .catalog import caller

MAX_URL = 2000
LIST_DEFAULT = 10
LIST_MAX = 100


class HookUrl(fields.Url):
    """Where Zapier wants the records posted: an http(s) URL (Zapier's are https)."""

    default_error_messages = {
        **f.COMMON_ERRORS,
        "invalid": Coded("invalid_url", "Must be an http(s) URL."),
        "too_long": Coded("too_long", f"Must be at most {MAX_URL} characters."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"https", "http"}, require_tld=False, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, str) and len(value) > MAX_URL:
            raise self.make_error("too_long")
        text: str = super()._deserialize(value, attr, data, **kwargs)
        return f.check_text(text)


class ZapierSubscription(PlatformSchema):
    """What the integration's ``performSubscribe`` posts."""

    target_url = HookUrl(
        required=True,
        metadata={
            "openapi": {"type": "string", "format": "uri", "maxLength": MAX_URL,
                        "pattern": r"^[Hh][Tt][Tt][Pp][Ss]?://\S+$"},
            "description": "The Zap's hook URL (Zapier's bundle.targetUrl).",
        },
    )  # fmt: skip


class StatusChangesQuery(PlatformSchema):
    limit = f.Integer(
        load_default=LIST_DEFAULT,
        validate=validate.Range(
            min=1, max=LIST_MAX, error=Coded("out_of_range", f"Must be from 1 to {LIST_MAX}.")
        ),
    )


SUBSCRIPTION = ZapierSubscription()
CHANGES_QUERY = StatusChangesQuery()


def bad_request(exc: ValidationError) -> InvalidInput:
    """The field at fault, named: a 400, since the request (not an offer) is wrong."""
    error = InvalidInput.from_messages(exc.messages)
    error.status = 400
    return error


def store_errors(view: Callable[..., Response]) -> Callable[..., Response]:
    """A store that cannot answer is a 503 with Retry-After, never a 500."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        try:
            return view(*args, **kwargs)
        except SQLAlchemyError as error:
            raise store_unavailable(error) from None

    return wrapped


def zapier_hooks_blueprint() -> Blueprint:
    bp = Blueprint("zapier_hooks", __name__)

    def hooks() -> ZapierHooks:
        return ZapierHooks(current_app.extensions["lto"].store.db)

    @bp.post("/v1/zapier/hooks")
    @store_errors
    def subscribe() -> Response:
        account = caller().account.name
        try:
            body = SUBSCRIPTION.load(read_json(request))
        except ValidationError as exc:
            raise bad_request(exc) from None
        return json_response({"id": hooks().add(account, body["target_url"])}, 201)

    @bp.delete("/v1/zapier/hooks/<hook_id>")
    @store_errors
    def unsubscribe(hook_id: str) -> Response:
        account = caller().account.name
        if not hooks().remove(hook_id, account):  # another connection's hook is not found
            raise ConnectorError(
                f"No Zapier subscription {hook_id[:60]!r}", status=404, code="not_found"
            )
        # a JSON body: Zapier's runtime refuses an empty 2xx from a request it made
        return json_response({"id": hook_id, "deleted": True})

    @bp.get("/v1/zapier/status-changes")
    @store_errors
    def status_changes() -> Response:
        account = caller().account.name
        try:
            query = CHANGES_QUERY.load(request.args.to_dict())
        except ValidationError as exc:
            raise bad_request(exc) from None
        changes = hooks().recent_changes(account, query["limit"])
        return json_response(
            [
                status_record(
                    event, row["status"], row["at_ms"], row["error_code"], row["error_reason"]
                )
                for event, row in changes
            ]
        )

    return bp
