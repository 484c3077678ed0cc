"""A stand-in for Kaleyra when no credentials are set: validates like the API, sends nothing."""

from __future__ import annotations

import uuid
from typing import Any

from marshmallow import INCLUDE, Schema, ValidationError, fields, validate

from .client import SendResult, encode
from .errors import PayloadRejected
from .payload import WA_SOURCES


class _Language(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1))


class _Template(Schema):
    name = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_]{1,512}$"))
    language = fields.Nested(_Language, required=True)
    components = fields.List(fields.Dict(), required=True)


class _MessagingObject(Schema):
    messaging_product = fields.String(required=True, validate=validate.Equal("whatsapp"))
    recipient_type = fields.String(validate=validate.Equal("individual"))
    to = fields.String(required=True, validate=validate.Regexp(r"^\+?\d{6,15}$"))
    type = fields.String(validate=validate.Equal("template"))
    template = fields.Nested(_Template, required=True)


class _ExtraInfo(Schema):
    ref = fields.String(validate=validate.Length(max=255))
    ref1 = fields.String(validate=validate.Length(max=255))
    ref2 = fields.String(validate=validate.Length(max=255))
    wa_source = fields.String(validate=validate.OneOf(sorted(WA_SOURCES)))


class KaleyraRequestSchema(Schema):
    """The send API's request body, as its documentation describes it."""

    class Meta:
        unknown = INCLUDE

    messaging_object = fields.Nested(_MessagingObject, required=True)
    extra_info = fields.Nested(_ExtraInfo)


class SandboxClient:
    sandbox = True
    url = "sandbox://kaleyra"

    def __init__(self) -> None:
        self.schema = KaleyraRequestSchema()

    def describe(self, payload: dict[str, Any]) -> dict[str, Any]:
        return {"method": "POST", "url": self.url, "headers": {}, "json": payload, "sandbox": True}

    def send(self, payload: dict[str, Any]) -> SendResult:
        encode(payload)  # what Kaleyra could not receive fails here too
        try:
            self.schema.load(payload)
        except ValidationError as exc:
            raise PayloadRejected(
                "Refer to correct payload format",
                status=400,
                code="WA400",
                body={"code": "WA400", "error": {"payload": exc.messages}},
            ) from None
        return SendResult(f"sandbox-{uuid.uuid4().hex}", 202, "WA202", None, 0.0, sandbox=True)
