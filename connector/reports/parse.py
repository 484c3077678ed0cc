"""Kaleyra's WhatsApp callbacks → ``StatusReport``s, from both documented shapes.

- A callback profile's own template (GET query or POST body): string variables ``id``,
  ``status``, ``timestamp``, ``error``, ``error_code``, ``ref``, ``ref1``, ``ref2`` … (the
  README gives the template to paste). The sample ``id`` ends in ``:0``.
- The v2 status webhook: ``meta_object.value.statuses[]`` (Meta's statuses: ``id``,
  ``status``, ``timestamp`` in epoch seconds, ``errors``) with ``extra_info`` (``message_id``,
  ``ref``, ``ref1``, ``ref2``) and a top-level ``status`` and ``message_id``.

No page says which id equals the send answer's ``data.message_id``, so every id a callback
carries is a candidate, normalised (trimmed, a ``:N`` suffix dropped); the connector's own
reference (the event id it put in a free ref slot) is the sure match.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, pre_load, validates_schema

from ..errors import Coded
from ..fields import COMMON_ERRORS
from ..jsonio import JsonRefused, parse_json

STATUSES = ("sent", "delivered", "read", "failed", "not-sent")
SUFFIX = re.compile(r":\d+$")


@dataclass(frozen=True)
class StatusReport:
    status: str  # one of STATUSES
    message_ids: tuple[str, ...]  # every id the callback carries, normalised
    refs: tuple[str, ...]  # ref, ref1, ref2 as echoed
    at_ms: int | None  # when it happened (None: not given; the receipt time is used)
    error_code: str | None = None
    error_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message_ids": list(self.message_ids),
            "refs": list(self.refs),
            "at_ms": self.at_ms,
            "error_code": self.error_code,
            "error_reason": self.error_reason,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StatusReport:
        return cls(
            data["status"],
            tuple(data["message_ids"]),
            tuple(data["refs"]),
            data["at_ms"],
            data.get("error_code"),
            data.get("error_reason"),
        )


def normalise_id(value: str | None) -> str | None:
    text = (value or "").strip()
    return SUFFIX.sub("", text) or None


def status_of(value: str) -> str:
    text = value.strip().lower().replace("_", "-").replace(" ", "-")
    return "not-sent" if text in ("notsent", "not-sent") else text


def timestamp_ms(value: str) -> int:
    """Epoch seconds or milliseconds (as text), or an ISO 8601 time (UTC when no zone)."""
    text = value.strip()
    if re.fullmatch(r"\d{1,16}(\.\d+)?", text):
        number = float(text)
        return int(number if number >= 1e12 else number * 1000)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            Coded("invalid_timestamp", "Must be epoch seconds, epoch milliseconds or ISO 8601.")
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


class Text(fields.Field):
    """A string variable of the callback (numbers accepted as their text), at most 2000
    characters once trimmed; empty is absent."""

    default_error_messages = {**fields.Field.default_error_messages, **COMMON_ERRORS}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(Coded("invalid_type", "Must be text."))
        text = str(value).strip()
        if len(text) > 2000:
            raise ValidationError(Coded("too_long", "Must be at most 2000 characters."))
        return text or None


class Status(Text):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str | None:
        text = super()._deserialize(value, attr, data, **kwargs)
        if text is None:
            raise ValidationError(Coded("required", "Missing data for required field."))
        status = status_of(text)
        if status not in STATUSES:
            raise ValidationError(
                Coded("invalid_status", f"Must be one of: {', '.join(STATUSES)}.")
            )
        return status


class Timestamp(Text):
    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        return None if text is None else timestamp_ms(text)


class _Loose(Schema):
    class Meta:
        unknown = EXCLUDE


class TemplateReportSchema(_Loose):
    """A callback profile's own template: flat string variables (query or body)."""

    id = Text(load_default=None)
    status = Status(required=True)
    timestamp = Timestamp(load_default=None)
    error = Text(load_default=None)
    error_code = Text(load_default=None)
    ref = Text(load_default=None)
    ref1 = Text(load_default=None)
    ref2 = Text(load_default=None)
    message_id = Text(load_default=None)

    @validates_schema
    def identified(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not any(data.get(k) for k in ("id", "message_id", "ref", "ref1", "ref2")):
            raise ValidationError(
                Coded("required", "A callback needs the message's id (or a ref) to be matched."),
                "id",
            )

    def report(self, data: dict[str, Any]) -> StatusReport:
        ids = (normalise_id(data.get("id")), normalise_id(data.get("message_id")))
        return StatusReport(
            status=data["status"],
            message_ids=tuple(dict.fromkeys(i for i in ids if i)),
            refs=tuple(data[k] for k in ("ref", "ref1", "ref2") if data.get(k)),
            at_ms=data.get("timestamp"),
            error_code=data.get("error_code"),
            error_reason=data.get("error") if data["status"] in ("failed", "not-sent") else None,
        )


class MetaErrorSchema(_Loose):
    code = Text(load_default=None)
    title = Text(load_default=None)
    message = Text(load_default=None)
    error_data = fields.Dict(load_default=None)


class MetaStatusSchema(_Loose):
    id = Text(load_default=None)
    status = Status(required=True)
    timestamp = Timestamp(load_default=None)
    errors = fields.List(fields.Nested(MetaErrorSchema), load_default=list)


class MetaValueSchema(_Loose):
    statuses = fields.List(fields.Nested(MetaStatusSchema), load_default=list)


class MetaObjectSchema(_Loose):
    value = fields.Nested(MetaValueSchema, load_default=dict)


class ExtraInfoSchema(_Loose):
    message_id = Text(load_default=None)
    ref = Text(load_default=None)
    ref1 = Text(load_default=None)
    ref2 = Text(load_default=None)


class EnvelopeReportSchema(_Loose):
    """The v2 status webhook: Meta's statuses in ``meta_object`` with Kaleyra's ``extra_info``."""

    meta_object = fields.Nested(MetaObjectSchema, required=True)
    extra_info = fields.Nested(ExtraInfoSchema, load_default=dict)
    status = Status(load_default=None)
    message_id = Text(load_default=None)

    @pre_load
    def unwrap(self, data: Any, **kwargs: Any) -> Any:
        """Tolerate what a forwarding step may do to the documented shape: ``meta_object`` or
        ``extra_info`` sent as JSON text, Meta's own ``entry[].changes[].value`` around the
        statuses, and an empty top-level status."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("meta_object", "extra_info"):
            if isinstance(data.get(key), str):
                try:
                    data[key] = parse_json(data[key])
                except JsonRefused:
                    pass  # left as text: the field's own error names it
        meta = data.get("meta_object")
        if isinstance(meta, dict) and "value" not in meta and isinstance(meta.get("entry"), list):
            statuses = [
                item
                for entry in meta["entry"] if isinstance(entry, dict)
                for change in entry.get("changes") or [] if isinstance(change, dict)
                for item in (change.get("value") or {}).get("statuses") or []
            ]  # fmt: skip
            data["meta_object"] = {"value": {"statuses": statuses}}
        if data.get("status") in (None, ""):
            data.pop("status", None)
        return data

    @validates_schema
    def has_a_status(self, data: dict[str, Any], **kwargs: Any) -> None:
        if not data["meta_object"].get("value", {}).get("statuses") and not data.get("status"):
            raise ValidationError(
                Coded("required", "A callback needs a status (meta_object.value.statuses)."),
                "meta_object.value.statuses",
            )

    def reports(self, data: dict[str, Any]) -> list[StatusReport]:
        extra = data.get("extra_info") or {}
        shared = [normalise_id(extra.get("message_id")), normalise_id(data.get("message_id"))]
        refs = tuple(extra[k] for k in ("ref", "ref1", "ref2") if extra.get(k))
        statuses = data["meta_object"].get("value", {}).get("statuses") or [
            {"status": data["status"], "id": None, "timestamp": None, "errors": []}
        ]
        out = []
        for item in statuses:
            ids = tuple(dict.fromkeys(i for i in [normalise_id(item.get("id")), *shared] if i))
            if not ids and not refs:
                raise ValidationError(
                    {"meta_object.value.statuses.id": [
                        Coded("required", "A status needs the message's id to be matched.")
                    ]}
                )  # fmt: skip
            error = (item.get("errors") or [{}])[0]
            details = (error.get("error_data") or {}).get("details")
            reason = error.get("message") or error.get("title") or details
            out.append(
                StatusReport(
                    status=item["status"],
                    message_ids=ids,
                    refs=refs,
                    at_ms=item.get("timestamp"),
                    error_code=error.get("code"),
                    error_reason=str(reason) if reason else None,
                )
            )
        return out


TEMPLATE = TemplateReportSchema()
ENVELOPE = EnvelopeReportSchema()


def parse_reports(data: Any) -> list[StatusReport]:
    """Every status a callback carries; ``ValidationError`` naming the field otherwise."""
    if not isinstance(data, Mapping):
        raise ValidationError(
            {"_schema": [Coded("invalid_type", "A callback is an object of its variables.")]}
        )
    if "meta_object" in data:
        return ENVELOPE.reports(ENVELOPE.load(data))
    return [TEMPLATE.report(TEMPLATE.load(data))]
