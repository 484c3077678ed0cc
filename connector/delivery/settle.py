"""What an attempt's outcome does to a queued event: the failure table, backoff, the retry
horizon and the offer's own expiry, decided in one place (pure: no I/O)."""

from __future__ import annotations

from dataclasses import dataclass

from ..kaleyra.errors import KaleyraError
from ..outcomes import Action, failure_of
from ..retries import RetryPolicy
from ..store import Event
from ..store.queue import EXPIRED_MESSAGE, Settlement
from .attempt import Outcome, accepted_values, error_values

DEFAULT_EXPIRY_MARGIN_S = 60


@dataclass(frozen=True)
class Settler:
    policy: RetryPolicy
    # an offer is sent only while at least this long remains before its end
    expiry_margin_ms: int = DEFAULT_EXPIRY_MARGIN_S * 1000

    def __call__(
        self, event: Event, outcome: Outcome, row: dict[str, object], now: int, owner: str | None
    ) -> Settlement:
        if not isinstance(outcome, KaleyraError):
            return Settlement(event.id, "accepted", accepted_values(outcome), row, owner=owner)
        values = error_values(outcome)
        action = failure_of(outcome.kind).action
        if action is Action.UNCERTAIN and self.policy.retry_uncertain:
            action = Action.RETRY
        if action is Action.PAUSE:
            reason = f"{outcome.code or outcome.kind}: {outcome.message}"
            values["next_attempt_ms"] = now  # waits, without counting, until resumed
            pause = (event.account, reason)
            return Settlement(event.id, "queued", values, row, -1, pause, owner)
        if action is Action.RETRY:
            at = self.policy.next_attempt_ms(
                event.attempts, now, event.created_ms, outcome.retry_after
            )
            if at is None:
                values["error_message"] = (
                    f"Gave up after {event.attempts} attempts over "
                    f"{self.policy.horizon_s / 3600:g} h; last: {outcome.message}"
                )[:1000]
                return Settlement(event.id, "dead", values, row, owner=owner)
            if event.expires_ms is not None and at > event.expires_ms - self.expiry_margin_ms:
                values["error_kind"] = "expired"
                values["error_message"] = f"{EXPIRED_MESSAGE}; last: {outcome.message}"[:1000]
                return Settlement(event.id, "expired", values, row, owner=owner)
            return Settlement(
                event.id, "queued", values | {"next_attempt_ms": at}, row, owner=owner
            )
        status = "dead" if action is Action.DEAD else "uncertain"
        return Settlement(event.id, status, values, row, owner=owner)
