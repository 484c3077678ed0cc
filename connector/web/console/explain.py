"""A message's error in words: what it means and what to do, from the one failure table.

``outcomes.FAILURES`` decides what the connector does with each kind of failure; this module says
it to a person, one entry per kind (a test keeps the two in step), plus what each of Kaleyra's
documented codes means.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...outcomes import FAILURES, Action, failure_of
from ...store import Event
from .present import clean_text

MEANING = {
    "kaleyra_auth": (
        "Kaleyra refused the account's SID or API key (RBC001).",
        "Check the connection's Kaleyra SID and API key, then resume the account on Health.",
    ),
    "sender_not_on_account": (
        "The sender number is not on this Kaleyra account (WA401).",
        "Fix the connection's sender number (your WhatsApp business number), then resume.",
    ),
    "api_not_enabled": (
        "The WhatsApp API is not enabled for this Kaleyra account (WA-401).",
        "Ask Kaleyra support to enable it, then resume the account.",
    ),
    "wrong_api_version": (
        "The sender number belongs to another version of Kaleyra's WhatsApp API (WA-401).",
        "Ask Kaleyra which endpoint the number uses; then resume the account.",
    ),
    "low_balance": (
        "The Kaleyra account's balance is too low (E110).",
        "Top up the Kaleyra account, then resume it on Health: waiting messages are sent.",
    ),
    "payload_rejected": (
        "Kaleyra refused this message's content (WA400): a field the template does not take, "
        "or a value it does not accept.",
        "Compare the request below with the approved template; fix the caller's data and send "
        "a new message, or replay this one once the template is fixed.",
    ),
    "unencodable": (
        "The message holds text no UTF-8 request can carry (a lone surrogate: text cut in the "
        "middle of an emoji), stored before the connector refused such text at the door. It "
        "was never sent.",
        "Send a new message with the text fixed; replaying this one would fail the same way.",
    ),
    "kaleyra_error": (
        "Kaleyra answered with an error the connector does not recognise.",
        "Look at Kaleyra's message below; the connector retries it with backoff.",
    ),
    "unavailable": (
        "Kaleyra was unavailable (WA500 or another 5xx).",
        "Nothing to do: it is retried with backoff until the retry horizon, then a dead letter.",
    ),
    "rate_limited": (
        "Kaleyra throttled the account (429).",
        "Nothing to do: it is retried after Kaleyra's Retry-After. If it keeps happening, lower "
        "the connection's rate.",
    ),
    "unreachable": (
        "Kaleyra could not be reached: nothing was sent.",
        "Check the network between the connector and Kaleyra; it is retried with backoff.",
    ),
    "uncertain": (
        "The request was sent but Kaleyra's answer never came: the customer may have the "
        "message already.",
        "Check Kaleyra's reports for the recipient before replaying: a replay may send it twice.",
    ),
}

ACTION_TEXT = {
    Action.RETRY: "The connector retries it by itself.",
    Action.DEAD: "The connector gave up on it: a dead letter, until it is replayed.",
    Action.PAUSE: "The account is paused: its messages wait, without using up attempts.",
    Action.UNCERTAIN: "The connector never resends it by itself.",
}

KALEYRA_CODES = {
    "WA202": "Request accepted.",
    "RBC001": "Incorrect SID or API key.",
    "WA401": "Phone number is not present or does not belong to the account.",
    "WA-401": "API not available for this customer, or the number uses another API version.",
    "WA400": "Refer to correct payload format.",
    "WA500": "Internal server error: try again later.",
    "E110": "Low balance.",
}


@dataclass(frozen=True)
class Explanation:
    kind: str
    code: str  # the connector's error code callers see
    http_status: int
    meaning: str
    todo: str
    action: str
    kaleyra_code: str | None
    kaleyra_meaning: str | None
    message: str  # Kaleyra's (or the worker's) own words, scrubbed


def explain(event: Event) -> Explanation | None:
    if event.status == "expired":
        return Explanation(
            kind="expired",
            code="offer_expired",
            http_status=410,
            meaning="The offer's own expiry passed before the message could be sent.",
            todo="Nothing to replay: send a new offer with a later expiry if it still applies.",
            action="Not sent, and not replayable.",
            kaleyra_code=None,
            kaleyra_meaning=None,
            message=clean_text(event.error_message),
        )
    if not event.error_kind:
        return None
    kind = event.error_kind if event.error_kind in FAILURES else "kaleyra_error"
    failure = failure_of(kind)
    meaning, todo = MEANING[kind]
    return Explanation(
        kind=kind,
        code=failure.code,
        http_status=failure.status,
        meaning=meaning,
        todo=todo,
        action=ACTION_TEXT[failure.action],
        kaleyra_code=event.error_code,
        kaleyra_meaning=KALEYRA_CODES.get(event.error_code or ""),
        message=clean_text(event.error_message),
    )
