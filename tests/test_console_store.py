"""The console's reads and its own tables, on SQLite and on this machine's PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import update

from connector.store import EventStore
from connector.store.activity import last_hour
from connector.store.browse import Cursor, MessageFilter, page_events, queue_figures
from connector.store.console import ConsoleStore
from connector.store.reports import notifications_of, statuses_of
from connector.store.schema import attempts, events, notifications, statuses
from tests.rows import values

T0 = 1_900_000_020_000  # a whole minute (epoch ms)


def fresh(db_url: str) -> EventStore:
    store = EventStore(db_url)
    store.ensure_schema()
    return store


def add(store: EventStore, n: int, *, at: int, account: str = "acme", **kwargs: Any) -> str:
    """An event received at ``at`` for recipient +9198765432{n:02d}."""
    row = values(
        f"{account}/api:key:{n}",
        offer={"to": f"+9198765432{n:02d}", "expiration_ms": at + 3_600_000},
        payload={"messaging_object": {"to": f"+9198765432{n:02d}"}},
        sandbox=True,
        account=account,
        recipient_last4=f"32{n:02d}",
        expires_ms=at + 3_600_000,
    )
    row.update(kwargs)
    event, _ = store.claim(row)
    with store.db.write() as conn:
        conn.execute(update(events).where(events.c.id == event.id).values(created_ms=at))
    return event.id


def attempt(store: EventStore, event_id: str, at: int, outcome: str, n: int = 1) -> None:
    with store.db.write() as conn:
        conn.execute(
            attempts.insert().values(
                event_id=event_id,
                number=n,
                started_ms=at,
                latency_ms=12.5,
                outcome=outcome,
                http_status=202 if outcome == "accepted" else 400,
                kaleyra_code="WA202" if outcome == "accepted" else "WA400",
            )
        )


def test_claim_fills_the_last_four_digits_and_the_offer_expiry(db_url: str) -> None:
    store = fresh(db_url)
    event_id = add(store, 7, at=T0)
    with store.db.read() as conn:
        row = conn.execute(events.select().where(events.c.id == event_id)).mappings().one()
    assert row["recipient_last4"] == "3207" and row["expires_ms"] == T0 + 3_600_000


def test_pages_are_filtered_scoped_and_stable_while_messages_arrive(db_url: str) -> None:
    store = fresh(db_url)
    ids = [add(store, n, at=T0 + (n // 2) * 1000) for n in range(9)]  # pairs share a time
    other = add(store, 50, at=T0 + 100_000, account="other")
    everything, _ = page_events(store.db.reader, MessageFilter(), limit=100)
    assert everything[0].id == other and len(everything) == 10
    scoped = MessageFilter(accounts=("acme",))
    seen: list[str] = []
    cursor: Cursor | None = None
    for page_number in range(5):
        page, cursor = page_events(store.db.reader, scoped, cursor, limit=2)
        seen += [e.id for e in page]
        if page_number == 0:  # a newer message arriving between pages changes nothing
            add(store, 60, at=T0 + 200_000)
        if cursor is None:
            break
        assert Cursor.parse(str(cursor)) == cursor
    expected = sorted(ids, key=lambda i: (-store.get(i).created_ms, i))  # type: ignore[union-attr]
    assert seen == expected
    assert cursor is None
    by_last4, _ = page_events(store.db.reader, MessageFilter(accounts=("acme",), last4="3203"))
    assert [e.id for e in by_last4] == [ids[3]]
    window = MessageFilter(accounts=("acme",), since_ms=T0 + 1000, until_ms=T0 + 3000)
    assert {e.id for e in page_events(store.db.reader, window)[0]} == set(ids[2:6])
    assert page_events(store.db.reader, MessageFilter(accounts=("nobody",)))[0] == []
    with store.db.write() as conn:
        conn.execute(update(events).where(events.c.id == ids[0]).values(status="dead"))
    dead = page_events(store.db.reader, MessageFilter(status="dead", platform="api"))[0]
    assert [e.id for e in dead] == [ids[0]]
    assert Cursor.parse("12.evt_x';--") is not None and Cursor.parse("x.evt_1") is None


def test_queue_figures_and_the_last_hour_per_minute(db_url: str) -> None:
    store = fresh(db_url)
    now = T0 - T0 % 60_000 + 30_000  # half a minute into a minute
    a, b, c = (add(store, n, at=now - 50_000) for n in range(3))
    theirs = add(store, 9, at=now - 50_000, account="other")
    attempt(store, a, now - 10_000, "accepted")  # this minute
    attempt(store, b, now - 70_000, "failed")  # the minute before
    attempt(store, b, now - 65_000, "accepted", 2)
    attempt(store, theirs, now - 10_000, "accepted")
    attempt(store, c, now - 4_000_000, "accepted")  # older than an hour
    with store.db.write() as conn:
        accepted = update(events).where(events.c.id.in_((a, b, theirs)))
        conn.execute(accepted.values(status="accepted"))
    figures = queue_figures(store.db.reader, ("acme",), now, window_ms=300_000)
    assert figures.depth == 1 and figures.oldest_ms == now - 50_000
    assert figures.accepted_recent == 2 and figures.per_minute == 0.4
    assert queue_figures(store.db.reader, None, now).accepted_recent == 3
    hour = last_hour(store.db.reader, now, ("acme",))
    assert hour.minutes == 60 and hour.start_ms == now - 30_000 - 59 * 60_000
    assert hour.series["sent"][-1] == 1 and hour.series["sent"][-2] == 1
    assert hour.series["failed"][-2] == 1 and hour.total("failed") == 1
    assert hour.total("delivered") == hour.total("read") == 0  # no status reported yet
    assert statuses_of(store.db.reader, a) == [] and notifications_of(store.db.reader, a) == []
    assert last_hour(store.db.reader, now, None).series["sent"][-1] == 2

    # issue 12's tables: the chart and the timeline read them
    with store.db.write() as conn:
        for event_id, status, at in (
            (a, "delivered", now - 5_000),
            (a, "read", now - 1_000),
            (b, "failed", now - 61_000),
            (theirs, "delivered", now - 5_000),
        ):
            conn.execute(
                statuses.insert().values(
                    event_id=event_id,
                    status=status,
                    at_ms=at,
                    received_ms=at + 100,
                    forward=True,
                    fanned_out=True,
                )
            )
        told = {
            "target": "hubspot",
            "status": "delivered",
            "state": "done",
            "attempts": 1,
            "next_ms": now,
        }
        conn.execute(
            notifications.insert().values(event_id=a, created_ms=now, updated_ms=now, **told)
        )
    hour = last_hour(store.db.reader, now, ("acme",))
    assert hour.series["delivered"][-1] == 1 and hour.series["read"][-1] == 1
    assert hour.series["failed"][-2] == 2
    assert last_hour(store.db.reader, now, None).series["delivered"][-1] == 2
    assert [s["status"] for s in statuses_of(store.db.reader, a)] == ["delivered", "read"]
    assert notifications_of(store.db.reader, a)[0]["target"] == "hubspot"


def test_the_session_secret_is_one_per_database_and_failures_are_counted(db_url: str) -> None:
    db = fresh(db_url).db
    stores = [ConsoleStore(db) for _ in range(4)]
    for store in stores:
        store.prune()
    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = set(pool.map(lambda s: s.secret(), stores))
    assert len(keys) == 1 and len(next(iter(keys))) == 64
    store = stores[0]
    for at in (T0, T0 + 10_000, T0 + 70_000):
        store.record_failure("203.0.113.9", at)
    assert store.failures_since("203.0.113.9", T0 + 10_000) == [T0 + 10_000, T0 + 70_000]
    assert store.failures_since("198.51.100.1", T0) == []
    store.record_failure("198.51.100.1", T0 + 3_650_000)  # prunes what is an hour old
    assert store.failures_since("203.0.113.9", 0) == [T0 + 70_000]
    draft = store.save_draft("owner-a", {"to": "+919876543210"})
    assert store.draft(draft, "owner-b") is None
    assert store.draft(draft, "owner-a") == {"to": "+919876543210"}
    store.drop_draft(draft)
    assert store.draft(draft, "owner-a") is None
