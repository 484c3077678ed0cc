"""The store's side of delivery reports, on SQLite and PostgreSQL: one group commit applies many
callbacks together, counts duplicates once, never moves a message backwards, keeps what came
early and matches it once its message has an id."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from connector.reports.parse import StatusReport
from connector.store import EventStore
from connector.store.group_commit import run_group
from connector.store.schema import early_reports, events, statuses
from connector.store.statuses import ApplyReports, match_early
from tests.rows import values


@pytest.fixture
def store(db_url: str) -> Iterator[EventStore]:
    store = EventStore(db_url)
    store.ensure_schema()
    yield store
    store.dispose()


def report(status: str, *, ref: str = "", message_id: str = "", at: int = 1_000) -> dict:
    ids = (message_id,) if message_id else ()
    return StatusReport(status, ids, (ref,) if ref else (), at).to_json()


def history(store: EventStore, event_id: str) -> list[tuple[str, bool]]:
    with store.db.read() as conn:
        rows = conn.execute(
            select(statuses.c.status, statuses.c.forward)
            .where(statuses.c.event_id == event_id)
            .order_by(statuses.c.at_ms)
        )
        return [(row.status, row.forward) for row in rows]


def test_a_group_of_callbacks_is_applied_together_each_status_once(store: EventStore) -> None:
    one, _ = store.claim(values("k1"))
    two, _ = store.claim(values("k2", account="other"))
    units = [
        ApplyReports("default", [report("delivered", ref=one.id, at=2_000)], 5),
        ApplyReports(
            "default",
            [report("delivered", ref=one.id, at=2_000), report("read", ref=one.id, at=3_000)],
            5,
        ),  # fmt: skip
        ApplyReports("default", [report("sent", message_id="A-unknown")], 5),
        ApplyReports("default", [report("read", ref=two.id)], 5),  # another account's message
    ]
    with store.db.write() as conn:
        results = run_group(conn, units)
    assert results == [
        {"matched": 1, "duplicates": 0, "forward": 1, "early": 0},
        {"matched": 2, "duplicates": 1, "forward": 1, "early": 0},
        {"matched": 0, "duplicates": 0, "forward": 0, "early": 1},
        {"matched": 0, "duplicates": 0, "forward": 0, "early": 1},  # not this connection's
    ]
    assert history(store, one.id) == [("delivered", True), ("read", True)]
    assert history(store, two.id) == []
    assert store.get(one.id).delivery_status == "read"  # type: ignore[union-attr]


def test_a_late_status_is_kept_but_never_moves_the_message_back(store: EventStore) -> None:
    event, _ = store.claim(values("k1"))
    for status, at in (("read", 3_000), ("delivered", 2_000), ("sent", 1_000), ("failed", 4_000)):
        with store.db.write() as conn:
            ApplyReports("default", [report(status, ref=event.id, at=at)], 5)(conn)
    assert history(store, event.id) == [
        ("sent", False), ("delivered", False), ("read", True), ("failed", False)]  # fmt: skip
    assert store.get(event.id).delivery_status == "read"  # type: ignore[union-attr]


def test_an_early_report_is_matched_once_the_message_has_its_id(store: EventStore) -> None:
    event, _ = store.claim(values("k1"))
    with store.db.write() as conn:
        early = ApplyReports("default", [report("delivered", message_id="A123")], 5)(conn)
        assert early["early"] == 1
        assert match_early(conn, now=10) == 0  # no message has that id yet
        conn.execute(update(events).where(events.c.id == event.id).values(message_id="A123"))
        assert match_early(conn, now=10) == 1
        assert conn.execute(select(early_reports)).all() == []
    assert history(store, event.id) == [("delivered", True)]
