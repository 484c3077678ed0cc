"""The one failure table: for each kind of Kaleyra failure, what the caller is told (HTTP status,
code, Retry-After) and what the connector does next (retry, dead letter, pause the account, or
leave it uncertain). Platforms reshape the answer; workers follow the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from .errors import ConnectorError
from .store import Event


class Action(Enum):
    RETRY = "retry"  # nothing was accepted; try again later with backoff
    DEAD = "dead"  # Kaleyra refused this message itself: a dead letter, with its reason
    PAUSE = "pause"  # the account must be fixed; its events wait without burning attempts
    UNCERTAIN = "uncertain"  # it may have been sent: never resent on its own


@dataclass(frozen=True)
class Failure:
    status: int
    code: str
    action: Action
    retry_after: int | None = None  # default when Kaleyra gave none

    @property
    def transient(self) -> bool:
        return self.action is Action.RETRY


FAILURES: dict[str, Failure] = {
    "kaleyra_auth": Failure(401, "kaleyra_auth_failed", Action.PAUSE),
    "sender_not_on_account": Failure(403, "kaleyra_sender_not_on_account", Action.PAUSE),
    "api_not_enabled": Failure(403, "kaleyra_api_not_enabled", Action.PAUSE),
    "wrong_api_version": Failure(403, "kaleyra_wrong_api_version", Action.PAUSE),
    "low_balance": Failure(402, "kaleyra_low_balance", Action.PAUSE),
    "payload_rejected": Failure(422, "kaleyra_rejected", Action.DEAD),
    "unencodable": Failure(422, "invalid_payload", Action.DEAD),
    "kaleyra_error": Failure(502, "kaleyra_error", Action.RETRY, 30),
    "unavailable": Failure(503, "kaleyra_unavailable", Action.RETRY, 30),
    "rate_limited": Failure(429, "kaleyra_rate_limited", Action.RETRY, 10),
    "unreachable": Failure(503, "kaleyra_unreachable", Action.RETRY, 30),
    "uncertain": Failure(504, "delivery_uncertain", Action.UNCERTAIN),
}


def failure_of(kind: str | None) -> Failure:
    return FAILURES.get(kind or "", FAILURES["kaleyra_error"])


def failure_error(event: Event) -> ConnectorError:
    """The error a caller sees for a failed, dead or uncertain event."""
    failure = failure_of(event.error_kind)
    retry_after = (event.retry_after or failure.retry_after) if failure.transient else None
    message = event.error_message or "Kaleyra did not accept the message"
    if event.status == "uncertain":
        message += (
            ". It may have been delivered, so it is not resent automatically; "
            "check the event before sending again."
        )
    extra = {"id": event.id, "kaleyra_code": event.error_code, "sandbox": event.sandbox}
    return ConnectorError(
        message, status=failure.status, code=failure.code, retry_after=retry_after, extra=extra
    )
