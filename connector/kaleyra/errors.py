"""Kaleyra's failures as types, built in one place from HTTP status + Kaleyra code.

``KaleyraUnreachable`` means the request never reached Kaleyra (nothing was sent, safe to retry);
``KaleyraUncertain`` means it was sent but no answer came (it may have been delivered: never resend
automatically). Everything else is Kaleyra's own answer.
"""

from __future__ import annotations

from typing import Any


class KaleyraError(Exception):
    """Kaleyra did not accept the message."""

    kind = "kaleyra_error"

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        body: Any = None,
        request_id: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.body = body
        self.request_id = request_id
        self.retry_after = retry_after


class KaleyraUnreachable(KaleyraError):
    kind = "unreachable"


class Unencodable(KaleyraError):
    """The message could not be encoded as Kaleyra's JSON: it never left, and never will."""

    kind = "unencodable"


class KaleyraUncertain(KaleyraError):
    """Sent, but the answer never came: Kaleyra may or may not have accepted it."""

    kind = "uncertain"


class AuthenticationFailed(KaleyraError):  # 401 RBC001
    kind = "kaleyra_auth"


class SenderNotOnAccount(KaleyraError):  # 401 WA401
    kind = "sender_not_on_account"


class ApiNotEnabled(KaleyraError):  # 401 WA-401 "API is not available for given customer"
    kind = "api_not_enabled"


class WrongApiVersion(KaleyraError):  # 401 WA-401 "associated with different Version"
    kind = "wrong_api_version"


class LowBalance(KaleyraError):  # 400 E110
    kind = "low_balance"


class PayloadRejected(KaleyraError):  # 400 WA400
    kind = "payload_rejected"
    pass


class UpstreamUnavailable(KaleyraError):  # 500 WA500, other 5xx
    kind = "unavailable"


class RateLimited(KaleyraError):  # 429
    kind = "rate_limited"


_BY_CODE: dict[str, type[KaleyraError]] = {
    "RBC001": AuthenticationFailed,
    "WA401": SenderNotOnAccount,
    "WA400": PayloadRejected,
    "WA500": UpstreamUnavailable,
    "E110": LowBalance,
}


def error_from_response(
    status: int, body: Any, request_id: str | None, retry_after: int | None = None
) -> KaleyraError:
    code = body.get("code") if isinstance(body, dict) else None
    code = str(code) if code is not None else None
    message = body.get("message") if isinstance(body, dict) else None
    message = str(message) if message else f"Kaleyra answered HTTP {status}"
    cls: type[KaleyraError]
    if code == "WA-401":
        cls = WrongApiVersion if "version" in message.lower() else ApiNotEnabled
    elif code in _BY_CODE:
        cls = _BY_CODE[code]
    elif status == 429:
        cls = RateLimited
    elif status >= 500:
        cls = UpstreamUnavailable
    elif status in (401, 403):
        cls = AuthenticationFailed
    else:
        cls = PayloadRejected
    return cls(
        message, status=status, code=code, body=body, request_id=request_id, retry_after=retry_after
    )
