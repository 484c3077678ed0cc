"""The connector's error tree and its one JSON error body.

Every failure a caller can see is a ``ConnectorError``: it carries an HTTP status, a short stable
``code`` that clients and tests match on, a human ``message`` and, for bad input, per-field
``errors``. Platforms translate the same error into their own answer format.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Coded(str):
    """An error message that remembers its stable code.

    marshmallow formats messages with ``str.format``; returning ``Coded`` from ``format`` keeps the
    code attached all the way to the error body.
    """

    code: str

    def __new__(cls, code: str, text: str) -> Coded:
        self = super().__new__(cls, text)
        self.code = code
        return self

    def format(self, *args: Any, **kwargs: Any) -> Coded:
        return Coded(self.code, str.format(self, *args, **kwargs))


FieldErrors = dict[str, list[dict[str, str]]]


def flatten_messages(messages: Any, prefix: str = "") -> FieldErrors:
    """marshmallow's nested ``messages`` → ``{"field.sub": [{"code", "message"}]}``."""
    out: FieldErrors = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if name == "_schema":
                name = prefix or "_schema"
            for field, items in flatten_messages(value, name).items():
                out.setdefault(field, []).extend(items)
    elif isinstance(messages, list | tuple):
        for item in messages:
            for field, items in flatten_messages(item, prefix).items():
                out.setdefault(field, []).extend(items)
    else:
        code = getattr(messages, "code", "invalid")
        out.setdefault(prefix or "_schema", []).append({"code": code, "message": str(messages)})
    return out


class ConnectorError(Exception):
    status: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        errors: FieldErrors | None = None,
        retry_after: int | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.errors = errors or {}
        self.retry_after = retry_after
        self.extra = dict(extra or {})

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "code": self.code,
            "status": self.status,
            "message": self.message,
            "errors": self.errors,
        }
        body.update(self.extra)
        return body

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class InvalidInput(ConnectorError):
    """The caller's payload broke a rule; ``errors`` names each field."""

    status = 422
    code = "invalid_request"

    @classmethod
    def from_messages(cls, messages: Any) -> InvalidInput:
        errors = flatten_messages(messages)
        first_field, first_items = next(iter(errors.items()))
        summary = "; ".join(
            f"{field}: {item['message']}" for field, items in errors.items() for item in items
        )
        return cls(summary, code=first_items[0]["code"], errors=errors)

    @property
    def fields(self) -> list[str]:
        return list(self.errors)


class MalformedBody(ConnectorError):
    status = 400
    code = "malformed_body"


class Unauthorized(ConnectorError):
    status = 401
    code = "unauthorized"


class NotConfigured(ConnectorError):
    status = 503
    code = "not_configured"


class IdempotencyConflict(ConnectorError):
    status = 409
    code = "idempotency_conflict"


class StoreUnavailable(ConnectorError):
    """The store could not take the write (unreachable, full, failing): nothing was
    acknowledged, so the caller may safely repeat the call."""

    status = 503
    code = "store_unavailable"


class StillInProgress(ConnectorError):
    status = 409
    code = "in_progress"
