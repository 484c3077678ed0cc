"""``POST /hooks/hubspot/options``: the template choices of the HubSpot action's ``optionsUrl``.

HubSpot posts ``{origin, inputFieldName, inputFields, fetchOptions: {q, after}, portalId}``, signed
like the action itself; the portal picks the connection, whose templates are answered as
``{"options": [{label, value, description}], "after", "searchable": true}``.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from marshmallow import ValidationError, fields

from .. import fields as f
from ..errors import InvalidInput, Unauthorized
from ..platforms.base import PlatformSchema, json_response, read_json
from ..platforms.hubspot import verify_signature
from ..templates import catalog, describe

PAGE = 50


class _FetchOptions(PlatformSchema):
    q = f.String(load_default="", allow_none=True)
    after = fields.Raw(load_default=None, allow_none=True)


class _Origin(PlatformSchema):
    portalId = f.Integer(load_default=None)


class HubSpotOptionsRequest(PlatformSchema):
    """What HubSpot posts to an ``optionsUrl``."""

    portalId = f.Integer(load_default=None)
    origin = fields.Nested(_Origin, load_default=dict)
    inputFieldName = f.String(load_default=None)
    inputFields = f.Object(load_default=dict)
    fetchOptions = fields.Nested(_FetchOptions, load_default=dict, allow_none=True)


# built once and shared: building a schema deep-copies its fields, dearer than a load
OPTIONS_REQUEST = HubSpotOptionsRequest()


def hubspot_options_blueprint() -> Blueprint:
    bp = Blueprint("hubspot_options", __name__)

    @bp.post("/hooks/hubspot/options")
    def options() -> Response:
        runtime = current_app.extensions["lto"]
        verify_signature(runtime, request)
        try:
            body = OPTIONS_REQUEST.load(read_json(request))
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        portal = body["portalId"] or body["origin"].get("portalId")
        connection = runtime.connections.by_portal(portal) or runtime.connections.open
        if connection is None:
            raise Unauthorized(f"HubSpot portal {portal} is not connected to this connector")
        fetch = body["fetchOptions"] or {}
        query = (fetch.get("q") or "").strip().lower()
        entries = [
            e
            for e in catalog(connection.templates, connection.defaults.template_name)
            if not query or query in e["id"].lower() or query in e["label"].lower()
        ]
        start = _offset(fetch.get("after"))
        page = entries[start : start + PAGE]
        more = start + PAGE < len(entries)
        return json_response(
            {
                "options": [
                    {"label": e["label"], "value": e["id"], "description": describe(e)}
                    for e in page
                ],
                "after": str(start + PAGE) if more else None,
                "searchable": True,
            }
        )

    return bp


def _offset(after: object) -> int:
    try:
        return max(0, int(str(after)))
    except ValueError:
        return 0
