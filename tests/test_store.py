"""The event table on SQLite and on this machine's PostgreSQL: group commit, the queue's units."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import text

from connector.store import EventStore
from connector.store.accounts import AccountStore
from connector.store.events import now_ms
from connector.store.queue import (
    Settlement,
    claim_due,
    expire_leases,
    mark_sending,
    record,
    release,
)
from tests.rows import values


@pytest.fixture
def store(db_url: str) -> Any:
    store = EventStore(db_url)
    store.ensure_schema()
    yield store
    store.dispose()


def claim(store: EventStore, key: str = "api:key:1", **overrides: Any) -> Any:
    return store.claim(values(key, **overrides))


def lease(store: EventStore, owner: str = "w1", now: int | None = None, **kwargs: Any) -> Any:
    now = now if now is not None else now_ms()
    options: dict[str, Any] = {"limit": 100, "lease_ms": 60_000, "expiry_margin_ms": 60_000}
    options.update(kwargs)
    return store.writer.submit(
        lambda conn: claim_due(conn, account="default", now=now, owner=owner, **options)
    )


def test_claim_is_unique_per_key_and_flushed_to_disk(store: EventStore) -> None:
    first, created = claim(store)
    again, created_again = claim(store)
    assert created and not created_again
    assert again.id == first.id and again.status == "queued"
    assert again.offer["body_params"] == ["ñ", "€"]  # JSON round trip
    assert store.count() == 1
    with store.db.write() as conn:  # every write waits for the disk (or the WAL's flush)
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        else:
            assert conn.execute(text("SHOW synchronous_commit")).scalar() == "on"


def test_concurrent_claims_create_one_event(store: EventStore) -> None:
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: claim(store), range(24)))
    assert sum(created for _, created in results) == 1
    assert len({event.id for event, _ in results}) == 1


def test_waiting_claims_share_one_commit(store: EventStore) -> None:
    """Group commit: while one transaction commits, the claims that arrive wait and go in
    together; each caller still gets its own answer."""
    gate = threading.Event()
    blocker = store.writer.later(lambda conn: gate.wait(10))
    time.sleep(0.05)  # the writer is now inside the blocker's transaction
    groups_before = store.writer.groups
    with ThreadPoolExecutor(max_workers=40) as pool:
        keys = [f"k{i % 30}" for i in range(40)]  # ten keys given twice, in one group
        futures = [pool.submit(claim, store, key) for key in keys]
        time.sleep(0.3)
        gate.set()
        results = [f.result(timeout=30) for f in futures]
    blocker.result(timeout=30)
    assert store.writer.groups - groups_before <= 3  # the blocker's, then one or two groups
    assert sum(created for _, created in results) == 30 and store.count() == 30
    by_key: dict[str, set[str]] = {}
    for key, (event, _) in zip(keys, results, strict=True):
        by_key.setdefault(key, set()).add(event.id)
    assert all(len(ids) == 1 for ids in by_key.values())


def test_a_failing_unit_fails_alone(store: EventStore) -> None:
    gate = threading.Event()
    blocker = store.writer.later(lambda conn: gate.wait(10))
    time.sleep(0.05)

    def broken(conn: Any) -> None:
        raise ValueError("this unit is wrong")

    good = [store.writer.later(lambda conn, i=i: claim_due) for i in range(3)]
    bad = store.writer.later(broken)
    claims = [threading.Thread(target=claim, args=(store, f"g{i}")) for i in range(5)]
    for thread in claims:
        thread.start()
    time.sleep(0.2)
    gate.set()
    for thread in claims:
        thread.join(timeout=30)
    blocker.result(timeout=30)
    with pytest.raises(ValueError, match="this unit is wrong"):
        bad.result(timeout=30)
    assert all(f.result(timeout=30) is claim_due for f in good)
    assert store.count() == 5  # the group was rolled back, then each unit ran on its own


def test_one_worker_claims_each_due_event(store: EventStore, db_url: str) -> None:
    for i in range(60):
        claim(store, f"k{i}")
    others = [EventStore(db_url) for _ in range(3)]  # three more workers on the same store
    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            batches = list(
                pool.map(
                    lambda pair: lease(pair[1], owner=f"w{pair[0]}", limit=25).to_send,
                    enumerate([store, *others]),
                )
            )
    finally:
        for other in others:
            other.dispose()
    ids = [event.id for batch in batches for event in batch]
    assert len(ids) == len(set(ids)) == 60
    assert all(event.status == "leased" and event.attempts == 1 for b in batches for event in b)


def test_a_retry_is_not_claimed_before_it_is_due(store: EventStore) -> None:
    event, _ = claim(store)
    now = event.created_ms
    [leased] = lease(store, now=now).to_send
    released = store.writer.submit(
        lambda conn: mark_sending(conn, [leased.id], owner="w1", now=now, lease_ms=60_000)
    )
    assert released.sending == {leased.id}
    retry = Settlement(leased.id, "queued", {"next_attempt_ms": now + 5_000}, None, owner="w1")
    assert store.writer.submit(lambda conn: record(conn, [retry])).settled == {leased.id: "queued"}
    assert lease(store, now=now + 4_999).to_send == []
    [again] = lease(store, now=now + 5_000).to_send
    assert again.id == event.id and again.attempts == 2


def test_an_offer_that_ends_before_it_can_be_sent_expires(store: EventStore) -> None:
    now = now_ms()
    soon, _ = claim(store, "k:soon", expires_ms=now + 30_000, next_attempt_ms=now)  # < 60 s left
    later, _ = claim(store, "k:later", expires_ms=now + 600_000, next_attempt_ms=now)
    claimed = lease(store, now=now)
    assert [e.id for e in claimed.to_send] == [later.id]
    assert [e.id for e in claimed.expired] == [soon.id]
    expired = store.get(soon.id)
    assert expired is not None and (expired.status, expired.attempts) == ("expired", 0)
    assert store.replay(soon.id, now) is None  # an expired offer is never sent


def test_leases_of_a_vanished_worker_are_resolved(store: EventStore) -> None:
    unsent, _ = claim(store, "k:1")
    sent, _ = claim(store, "k:2")
    now = sent.created_ms
    lease(store, now=now, lease_ms=1_000)
    store.writer.submit(
        lambda conn: mark_sending(conn, [sent.id], owner="w1", now=now, lease_ms=1_000)
    )
    resolve = lambda at: store.writer.submit(  # noqa: E731
        lambda conn: expire_leases(conn, at, retry_uncertain=False)
    )
    assert resolve(now + 500) == (0, 0)
    assert resolve(now + 2_000) == (1, 1)
    back, lost = store.get(unsent.id), store.get(sent.id)
    assert back is not None and (back.status, back.attempts) == ("queued", 0)
    assert lost is not None and lost.status == "uncertain"


def test_an_outcome_after_the_lease_was_taken_back_changes_nothing(store: EventStore) -> None:
    event, _ = claim(store)
    now = event.created_ms
    lease(store, now=now, lease_ms=1_000)
    store.writer.submit(
        lambda conn: mark_sending(conn, [event.id], owner="w1", now=now, lease_ms=1_000)
    )
    store.writer.submit(lambda conn: expire_leases(conn, now + 5_000, retry_uncertain=False))
    late = Settlement(event.id, "accepted", {"message_id": "A1"}, None, owner="w1")
    recorded = store.writer.submit(lambda conn: record(conn, [late]))
    assert recorded.stale == [event.id] and recorded.settled == {}
    current = store.get(event.id)
    assert current is not None and current.status == "uncertain"


def test_paused_accounts_are_not_claimed_and_hand_back_what_was_claimed(
    store: EventStore,
) -> None:
    first, _ = claim(store, "k:1")
    second, _ = claim(store, "k:2")
    now = second.created_ms
    assert len(lease(store, now=now).to_send) == 2
    accounts = AccountStore(store)
    assert accounts.pause("default", "E110: low balance")
    released = store.writer.submit(
        lambda conn: mark_sending(conn, [first.id], owner="w1", now=now, lease_ms=60_000)
    )
    assert released.sending == set() and released.returned == {first.id}
    assert store.writer.submit(lambda conn: release(conn, [second.id], owner="w1", now=now)) == 1
    assert lease(store, now=now).to_send == []  # paused: nothing is claimed
    assert {e.status for e in store.recent(5)} == {"queued"}
    assert {e.attempts for e in store.recent(5)} == {0}
    assert accounts.resume("default") and len(lease(store, now=now).to_send) == 2


def test_replay_keeps_the_id_and_history(store: EventStore) -> None:
    event, _ = claim(store, mode="sync", status="sending", attempts=1, next_attempt_ms=None)
    attempt = {"event_id": event.id, "number": 1, "started_ms": event.created_ms,
               "latency_ms": 3.5, "outcome": "failed", "http_status": 400,
               "kaleyra_code": "WA400", "error_kind": "payload_rejected"}  # fmt: skip
    store.finish(event, "dead", attempt=attempt, error_kind="payload_rejected", error_code="WA400")
    assert store.replay(event.id + "x", event.created_ms) is None
    replayed = store.replay(event.id, event.created_ms + 10)
    assert replayed is not None and replayed.id == event.id
    assert (replayed.status, replayed.error_code, replayed.attempts) == ("queued", None, 1)
    assert [a["kaleyra_code"] for a in store.attempts_of(event.id)] == ["WA400"]
    assert store.replay(event.id, event.created_ms) is None  # queued: nothing to replay


def test_pausing_an_account(store: EventStore) -> None:
    accounts = AccountStore(store)
    assert accounts.pause("acme", "E110: low balance") is True
    assert accounts.pause("acme", "again") is False
    assert set(accounts.paused()) == {"acme"}
    assert accounts.paused()["acme"]["reason"].startswith("E110")
    assert accounts.resume("acme") is True and accounts.resume("acme") is False
    assert accounts.paused() == {}


def test_windowed_key_is_retired_after_the_window(store: EventStore) -> None:
    old, _ = claim(store, "api:offer:x")
    same, created = store.claim(values("api:offer:x"), 60_000)
    assert same.id == old.id and not created
    fresh, created = store.claim(values("api:offer:x"), -1)
    assert created and fresh.id != old.id
    retired = store.get(old.id)
    assert retired is not None and retired.dedupe_key.startswith("api:offer:x#retired:")
