"""The event table on SQLite and on this machine's PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from connector.store import EventStore


def claim(store: EventStore, key: str = "api:key:1", **kwargs: Any) -> Any:
    values: dict[str, Any] = {
        "dedupe_key": key,
        "platform": "api",
        "wa_source": "api",
        "fingerprint": "f" * 64,
        "offer": {"to": "+919876543210"},
        "payload": {"messaging_object": {}},
        "sandbox": False,
    }
    values.update(kwargs)
    return store.claim(**values)


def test_claim_is_unique_per_key(db_url: str) -> None:
    store = EventStore(db_url)
    store.create_schema()
    store.create_schema()  # idempotent
    first, created = claim(store)
    again, created_again = claim(store)
    assert created and not created_again
    assert again.id == first.id and again.status == "queued"
    assert store.count() == 1


def test_concurrent_claims_create_one_event(db_url: str) -> None:
    store = EventStore(db_url)
    store.create_schema()
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda _: claim(store), range(24)))
    assert sum(created for _, created in results) == 1
    assert len({event.id for event, _ in results}) == 1


def fresh(db_url: str) -> EventStore:
    store = EventStore(db_url)
    store.create_schema()
    return store


def test_only_one_worker_leases_a_due_event(db_url: str) -> None:
    store = fresh(db_url)
    event, _ = claim(store)
    now = event.created_ms
    with ThreadPoolExecutor(max_workers=8) as pool:
        wins = list(pool.map(lambda _: store.lease(event.id, now, 60_000), range(16)))
    assert sum(win is not None for win in wins) == 1
    current = store.get(event.id)
    assert current is not None and current.status == "leased" and current.attempts == 1


def test_a_retry_is_not_leased_before_it_is_due(db_url: str) -> None:
    store = fresh(db_url)
    event, _ = claim(store)
    now = event.created_ms
    leased = store.lease(event.id, now, 60_000)
    assert leased is not None and store.mark_sending(event.id)
    store.requeue(event.id, now + 5_000, enqueued_ms=now + 5_000, error_kind="unavailable")
    assert store.lease(event.id, now + 4_999, 60_000) is None
    assert store.due(now + 4_999, stale_ms=60_000) == []
    assert store.due(now + 70_000, stale_ms=60_000) == [event.id]  # its nudge presumed lost
    again = store.lease(event.id, now + 5_000, 60_000)
    assert again is not None and again.attempts == 2


def test_expired_leases_requeue_unsent_and_flag_sent_as_uncertain(db_url: str) -> None:
    store = fresh(db_url)
    unsent, _ = claim(store, "k:1")
    sent, _ = claim(store, "k:2")
    now = sent.created_ms
    assert store.lease(unsent.id, now, 1_000) and store.lease(sent.id, now, 1_000)
    assert store.mark_sending(sent.id)
    assert store.expire_leases(now + 500, retry_uncertain=False) == (0, 0)
    assert store.expire_leases(now + 2_000, retry_uncertain=False) == (1, 1)
    back, lost = store.get(unsent.id), store.get(sent.id)
    assert back is not None and (back.status, back.attempts) == ("queued", 0)
    assert lost is not None and lost.status == "uncertain"


def test_replay_keeps_the_id_and_history(db_url: str) -> None:
    store = fresh(db_url)
    event, _ = claim(store)
    store.lease(event.id, event.created_ms, 60_000)
    attempt = {"event_id": event.id, "number": 1, "started_ms": event.created_ms,
               "latency_ms": 3.5, "outcome": "failed", "http_status": 400,
               "kaleyra_code": "WA400", "error_kind": "payload_rejected"}  # fmt: skip
    store.finish(
        event.id, "dead", attempt=attempt, error_kind="payload_rejected", error_code="WA400"
    )
    assert store.replay(event.id + "x", event.created_ms) is None
    replayed = store.replay(event.id, event.created_ms + 10)
    assert replayed is not None and replayed.id == event.id
    assert (replayed.status, replayed.error_code, replayed.attempts) == ("queued", None, 1)
    assert [a["kaleyra_code"] for a in store.attempts_of(event.id)] == ["WA400"]
    assert store.replay(event.id, event.created_ms) is None  # queued: nothing to replay


def test_pausing_an_account(db_url: str) -> None:
    from connector.store.accounts import AccountStore

    accounts = AccountStore(fresh(db_url).engine)
    assert accounts.pause("acme", "E110: low balance") is True
    assert accounts.pause("acme", "again") is False
    assert set(accounts.paused()) == {"acme"} and accounts.paused()["acme"]["reason"].startswith(
        "E110"
    )
    assert accounts.resume("acme") is True and accounts.resume("acme") is False
    assert accounts.paused() == {}


def test_windowed_key_is_retired_after_the_window(db_url: str) -> None:
    store = EventStore(db_url)
    store.create_schema()
    old, _ = claim(store, "api:offer:x")
    same, created = claim(store, "api:offer:x", window_ms=60_000)
    assert same.id == old.id and not created
    fresh, created = claim(store, "api:offer:x", window_ms=-1)
    assert created and fresh.id != old.id
    retired = store.get(old.id)
    assert retired is not None and retired.dedupe_key.startswith("api:offer:x#retired:")


def test_finish_records_the_outcome_and_json_round_trips(db_url: str) -> None:
    store = EventStore(db_url)
    store.create_schema()
    event, _ = claim(store, offer={"to": "+919876543210", "body_params": ["ñ", "€"]}, send_now=True)
    done = store.finish(event.id, "accepted", message_id="A1", upstream_status=202)
    assert (done.status, done.message_id, done.upstream_status) == ("accepted", "A1", 202)
    assert done.offer["body_params"] == ["ñ", "€"]
    assert [e.id for e in store.recent(5, "accepted")] == [event.id]
    assert store.recent(5, "failed") == []
