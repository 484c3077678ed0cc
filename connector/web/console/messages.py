"""Messages: the filtered, paged list; one message's page; Replay.

The list reads ``store.browse.page_events`` (newest first, keyset-paged); filters are a GET form,
so a filtered page is a link. A connection's principal sees only its own account's messages; any
other id answers 404, as ``GET /v1/events/<id>`` does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from ...fields import mask_phone
from ...offer import wall_clock_ms
from ...platforms import PLATFORMS
from ...store import Event
from ...store.browse import Cursor, MessageFilter, page_events, platforms_seen
from .auth import principal, signed_in
from .explain import explain
from .present import REPLAYABLE, STATUSES, masked_payload, pretty
from .security import Refusal
from .timeline import timeline
from .trial import PLATFORM as CONSOLE_PLATFORM

PAGE = 25
_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$")


def _time(value: str, name: str, problems: dict[str, str]) -> int | None:
    """A ``datetime-local`` value, read as UTC, in epoch ms."""
    if not value:
        return None
    if not _MINUTE.match(value):
        problems[name] = "Use the form YYYY-MM-DDTHH:MM (UTC)."
        return None
    parsed = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def platform_names() -> list[str]:
    names = {cls.name for cls in PLATFORMS} | {CONSOLE_PLATFORM}
    store = current_app.extensions["lto"].store
    names |= set(platforms_seen(store.db.reader, principal().accounts))
    return sorted(names)


def read_filter(args: Any) -> tuple[MessageFilter, dict[str, str], dict[str, str]]:
    """The list's filter from the query string: (filter, the values shown, problems by field)."""
    problems: dict[str, str] = {}
    shown = {
        k: str(args.get(k, "")).strip()
        for k in ("status", "platform", "connection", "since", "until", "last4")
    }
    status = shown["status"] if shown["status"] in STATUSES else None
    if shown["status"] and status is None:
        problems["status"] = "Not a status."
    platform = shown["platform"] or None
    account = None
    if shown["connection"]:
        connection = next(
            (c for c in principal().connections() if c.name == shown["connection"]), None
        )
        if connection is None:
            problems["connection"] = "Not a connection you can see."
        else:
            account = connection.account.name
    last4 = shown["last4"] or None
    if last4 is not None and not re.fullmatch(r"\d{4}", last4):
        problems["last4"] = "Four digits: the end of the recipient's number."
        last4 = None
    since = _time(shown["since"], "since", problems)
    until = _time(shown["until"], "until", problems)
    flt = MessageFilter(
        accounts=principal().accounts,
        status=status,
        platform=platform,
        account=account,
        since_ms=since,
        until_ms=until,
        last4=last4,
    )
    return flt, shown, problems


def visible_event(event_id: str) -> Event:
    event = current_app.extensions["lto"].store.get(event_id[:60])
    if event is None or not principal().sees(event.account):
        raise Refusal(404, "Not found", "There is no such message for this sign-in.")
    return event


def register(bp: Blueprint) -> None:
    @bp.get("/messages")
    @signed_in
    def messages() -> Any:
        flt, shown, problems = read_filter(request.args)
        store = current_app.extensions["lto"].store
        after = Cursor.parse(request.args.get("after"))
        found, more = page_events(store.db.reader, flt, after, PAGE)
        query: dict[str, Any] = {k: v for k, v in shown.items() if v and k not in problems}
        return render_template(
            "console/messages.html",
            events=found,
            shown=shown,
            problems=problems,
            statuses=STATUSES,
            platforms=platform_names(),
            connections=principal().connections(),
            next_url=url_for("console.messages", after=str(more), **query) if more else None,
            first_url=url_for("console.messages", **query) if after else None,
            mask=mask_phone,
        ), (422 if problems else 200)

    @bp.get("/messages/<event_id>")
    @signed_in
    def message(event_id: str) -> str:
        event = visible_event(event_id)
        store = current_app.extensions["lto"].store
        return render_template(
            "console/message.html",
            event=event,
            to=mask_phone(str(event.offer.get("to", ""))),
            entries=timeline(store, event),
            explanation=explain(event),
            payload=pretty(masked_payload(event.payload)),
            replayable=event.status in REPLAYABLE,
        )

    @bp.post("/messages/<event_id>/replay")
    @signed_in
    def replay(event_id: str) -> BaseResponse:
        event = visible_event(event_id)
        runtime = current_app.extensions["lto"]
        if event.status == "uncertain" and request.form.get("confirm") != "yes":
            raise Refusal(
                409,
                "Not replayed",
                "This message may have been delivered. Tick the box confirming you checked "
                "Kaleyra's reports, then replay.",
            )
        replayed = runtime.store.replay(event.id, wall_clock_ms())
        if replayed is None:
            current = runtime.store.get(event.id)
            status = current.status if current else "gone"
            raise Refusal(
                409,
                "Not replayed",
                f"Only dead, uncertain or failed messages can be replayed; this one is {status}.",
            )
        flash("Replayed: the message is queued again, with the same id.", "ok")
        return redirect(url_for("console.message", event_id=event.id), 303)
