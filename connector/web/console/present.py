"""How the console shows things: times, statuses, and requests with every number masked.

No page shows a full phone number, API key or secret: recipients go through ``fields.mask_phone``,
the sender number in a Kaleyra URL likewise, headers named like secrets become ``****`` (as in the
logs), and free text from Kaleyra is scrubbed as the logs scrub it.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint

from ...fields import mask_phone
from ...logs import scrub

# every status an event can be in, in the order the filter lists them
STATUSES = ("queued", "leased", "sending", "accepted", "failed", "dead", "uncertain", "expired")
STATUS_TEXT = {
    "queued": "Waiting for a worker (or for its next attempt, or for its account to resume).",
    "leased": "A worker has taken it and is about to send it.",
    "sending": "The request to Kaleyra is in flight.",
    "accepted": "Kaleyra accepted it.",
    "failed": "Kaleyra did not accept it; the caller was told (a repeat of the call tries again).",
    "dead": "A dead letter: Kaleyra refused it, or retries ran out. Fix the cause, then replay.",
    "uncertain": "Sent, but Kaleyra's answer never came: it may have been delivered. It is never "
    "resent on its own.",
    "expired": "The offer's own expiry passed before it could be sent. It is not sent, and "
    "cannot be replayed: the customer would receive an offer that has already ended.",
}
# how a status looks: the same class for the terminal failures
STATUS_TONE = {
    "accepted": "ok",
    "queued": "wait",
    "leased": "wait",
    "sending": "wait",
    "failed": "bad",
    "dead": "bad",
    "expired": "bad",
    "uncertain": "warn",
}
REPLAYABLE = ("dead", "uncertain", "failed")
_SENDER_IN_URL = re.compile(r"(/whatsapp/)([^/]+)(/)")


def when(ms: int | None) -> str:
    if ms is None:
        return "—"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def iso(ms: int | None) -> str:
    return "" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).isoformat()


def duration(ms: int) -> str:
    """``1 d 4 h``, ``3 h 5 min``, ``42 s``: the two largest units."""
    seconds = max(0, ms // 1000)
    parts: list[str] = []
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min"), (1, "s")):
        if seconds >= size or (unit == "s" and not parts):
            parts.append(f"{seconds // size} {unit}")
            seconds %= size
        if len(parts) == 2:
            break
    return " ".join(parts)


def masked_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """A Kaleyra request body with its recipient masked."""
    shown = copy.deepcopy(payload)
    target = shown.get("messaging_object")
    if isinstance(target, dict) and target.get("to"):
        target["to"] = mask_phone(str(target["to"]))
    return shown


def masked_request(described: dict[str, Any]) -> dict[str, Any]:
    """``sender.describe(...)``: the URL's sender number, the body's recipient and every secret
    header masked."""
    shown = dict(described)
    shown["url"] = _SENDER_IN_URL.sub(
        lambda m: m.group(1) + mask_phone(m.group(2)) + m.group(3), str(shown.get("url", ""))
    )
    shown["headers"] = {k: scrub(v, k) for k, v in (shown.get("headers") or {}).items()}
    shown["json"] = masked_payload(shown.get("json") or {})
    return shown


def pretty(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False)


def clean_text(text: str | None) -> str:
    """Free text from Kaleyra or a worker, with anything like a phone number masked."""
    return str(scrub(text or ""))


def install_filters(bp: Blueprint) -> None:
    bp.add_app_template_filter(when, "when")
    bp.add_app_template_filter(iso, "iso")
    bp.add_app_template_filter(duration, "duration")
    bp.add_app_template_filter(mask_phone, "mask_phone")
    bp.add_app_template_filter(clean_text, "clean_text")

    @bp.context_processor
    def _statuses() -> dict[str, object]:
        return {"STATUS_TEXT": STATUS_TEXT, "STATUS_TONE": STATUS_TONE}
