"""Durable delivery: accept at once, deliver from the queue, retry, dead-letter, pause, replay."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import LiveConnector, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.served import CLI, kaleyra_env, wait_until, worker

ADMIN_KEY = "test-admin-key"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture(params=["store-rate", "redis-rate"])
def redis_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """Where the send rate is shared: the store itself, or Redis (scaled out)."""
    if request.param == "store-rate":
        yield None
        return
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    client.flushdb()
    yield "redis://127.0.0.1:6379/15"
    client.flushdb()


@pytest.fixture
def setup(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra, tmp_path: Path
) -> Callable[..., tuple[LiveConnector, dict[str, str]]]:
    """A connector in this process and the env for workers sharing its store and queue."""

    def make(
        redis_url: str | None = None, **env_extra: str
    ) -> tuple[LiveConnector, dict[str, str]]:
        db_url = f"sqlite:///{tmp_path}/events.db"
        connector = start_connector(
            database_url=db_url,
            redis_url=redis_url,
            admin_keys=(ADMIN_KEY,),
            retry_base_s=0.05,
            expiry_margin_s=1,
        )
        env = kaleyra_env(kaleyra, db_url) | {
            "CONNECTOR_REDIS_URL": redis_url or "",
            "CONNECTOR_RETRY_BASE": "0.05",
            "CONNECTOR_EXPIRY_MARGIN": "1",
            "KALEYRA_READ_TIMEOUT": "0.5",
            "KALEYRA_CONNECT_TIMEOUT": "0.5",
        }
        return connector, env | env_extra

    return make


def queue_offer(connector: LiveConnector, body: dict[str, Any]) -> str:
    """POST an offer with Prefer: respond-async; the id of the queued event."""
    response = connector.post("/v1/messages", json=body, headers=ASYNC)
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


def event(connector: LiveConnector, event_id: str) -> dict[str, Any]:
    response = connector.get(f"/v1/events/{event_id}", headers={"X-Api-Key": ADMIN_KEY})
    assert response.status_code == 200, response.text
    return dict(response.json())


def settled(connector: LiveConnector, event_id: str, status: str) -> Callable[[], bool]:
    return lambda: event(connector, event_id)["status"] == status


def test_async_call_is_stored_and_answered_before_any_send(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path, redis_url: str | None
) -> None:
    connector, env = setup(redis_url)
    response = connector.post("/v1/messages", json=offer(), headers=ASYNC)
    assert response.status_code == 202
    assert response.headers["Preference-Applied"] == "respond-async"
    body = response.json()
    assert body["status"] == "queued" and body["message_id"] is None
    assert kaleyra.requests == []  # answered before anything went upstream
    again = connector.post("/v1/messages", json=offer(), headers=ASYNC)
    assert again.json()["id"] == body["id"] and again.json()["replayed"] is True
    with worker(env, tmp_path):
        wait_until(settled(connector, body["id"], "accepted"))
    [request] = kaleyra.sent
    assert event(connector, body["id"])["message_id"] == request.message_id
    sync_repeat = connector.post("/v1/messages", json=offer())
    assert sync_repeat.json()["message_id"] == request.message_id and len(kaleyra.requests) == 1


def test_transient_failures_are_retried_with_backoff_and_sent_once(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("WA500").then("raw", status=429, body={}, headers={"Retry-After": "1"})
    kaleyra.then("raw", status=503, body="upstream gateway")
    event_id = connector.post("/hooks/zapier", json=offer(), headers=ASYNC).json()["id"]
    with worker(env, tmp_path):
        wait_until(settled(connector, event_id, "accepted"))
    history = event(connector, event_id)["attempts"]
    assert [(a["outcome"], a["http_status"]) for a in history] == [
        ("failed", 500),
        ("failed", 429),
        ("failed", 503),
        ("accepted", 202),
    ]
    assert history[2]["started_ms"] - history[1]["started_ms"] >= 1000  # Retry-After honoured
    assert len(kaleyra.sent) == 1


def test_refused_payload_is_a_dead_letter_and_replay_keeps_its_id(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("WA400")
    event_id = queue_offer(connector, offer())
    with worker(env, tmp_path):
        wait_until(settled(connector, event_id, "dead"))
        dead = event(connector, event_id)
        assert dead["error"]["kaleyra_code"] == "WA400" and len(dead["attempts"]) == 1
        refused = connector.post(f"/v1/events/{event_id}/replay")  # the API key is not enough
        assert refused.status_code == 401
        replayed = connector.post(f"/v1/events/{event_id}/replay", key=ADMIN_KEY)
        assert replayed.status_code == 202 and replayed.json()["id"] == event_id
        wait_until(settled(connector, event_id, "accepted"))
    assert [a["kaleyra_code"] for a in event(connector, event_id)["attempts"]] == ["WA400", "WA202"]
    assert connector.post(f"/v1/events/{event_id}/replay", key=ADMIN_KEY).status_code == 409


def test_account_failure_pauses_until_resumed_without_burning_attempts(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("E110")
    first = queue_offer(connector, offer())
    with worker(env, tmp_path):
        wait_until(lambda: connector.get("/readyz").json().get("paused_accounts"))
        assert "E110" in connector.get("/readyz").json()["paused_accounts"]["default"]
        second = connector.post("/v1/messages", json=offer(coupon_code="B"), headers=ASYNC).json()
        waiting = (first, second["id"])
        wait_until(lambda: all(event(connector, i)["status"] == "queued" for i in waiting))
        time.sleep(2.5)  # two sweeps: the paused account's events are not picked up
        assert [event(connector, i)["status"] for i in waiting] == ["queued", "queued"]
        assert len(kaleyra.requests) == 1
        resumed = subprocess.run([*CLI, "accounts", "resume"], env=env, capture_output=True,
                                 text=True, timeout=60)  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        wait_until(settled(connector, second["id"], "accepted"))
        wait_until(settled(connector, first, "accepted"))
    assert len(kaleyra.sent) == 2
    assert [a["outcome"] for a in event(connector, first)["attempts"]] == ["failed", "accepted"]


def test_unanswered_send_stays_uncertain_unless_the_account_allows_retry(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("hang")
    event_id = queue_offer(connector, offer())
    with worker(env, tmp_path):
        wait_until(settled(connector, event_id, "uncertain"))
    assert len(kaleyra.requests) == 1
    listed = subprocess.run([*CLI, "events", "--status", "uncertain", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert event_id in listed.stdout

    kaleyra.then("hang")
    other = queue_offer(connector, offer(coupon_code="U"))
    with worker(env | {"CONNECTOR_RETRY_UNCERTAIN": "1"}, tmp_path):
        wait_until(settled(connector, other, "accepted"))
    assert len(kaleyra.requests) == 3


def test_a_killed_worker_loses_nothing_and_sends_nothing_twice(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.delay = 0.05
    ids = [queue_offer(connector, offer(ref=f"n{i}")) for i in range(150)]
    with worker(env, tmp_path) as first:
        wait_until(lambda: len(kaleyra.sent) >= 30)
        first.kill()  # SIGKILL: the leases in hand are lost with it
        first.wait()
    with worker(env, tmp_path):
        wait_until(
            lambda: all(event(connector, i)["status"] in ("accepted", "uncertain") for i in ids),
            timeout=90,
            every=0.5,
        )
    views = [event(connector, i) for i in ids]
    refs = [r.json["extra_info"]["ref"] for r in kaleyra.requests]
    assert len(refs) == len(set(refs))  # nothing sent twice
    upstream_ids = {r.json["extra_info"]["ref"]: r.message_id for r in kaleyra.sent}
    accepted = [(f"n{n}", v) for n, v in enumerate(views) if v["status"] == "accepted"]
    assert all(upstream_ids[ref] == view["message_id"] for ref, view in accepted)
    uncertain = [v for v in views if v["status"] == "uncertain"]
    assert len(accepted) + len(uncertain) == 150  # nothing lost
    assert len(uncertain) <= 4  # at most the requests the killed worker had in flight


def test_metrics_show_deliveries_retries_dead_letters_and_pauses(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    connector, env = setup()
    kaleyra.then("WA500").then("ok").then("WA400").then("E110")
    ids = [
        connector.post("/v1/messages", json=offer(ref=str(i)), headers=ASYNC).json()["id"]
        for i in range(3)
    ]
    with worker(env, tmp_path, threads=1):
        wait_until(lambda: connector.get("/readyz").json().get("paused_accounts"))
        wait_until(
            lambda: sum(event(connector, i)["status"] in ("accepted", "dead") for i in ids) == 2
        )

    text = connector.get("/metrics").text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("lto_events_received_total", ())] == 3
    assert samples[("lto_messages_delivered_total", ())] == 1
    assert samples[("lto_events", (("status", "dead"),))] == 1
    assert samples[("lto_queue_depth", ())] == 1  # the one waiting for the paused account
    assert samples[("lto_queue_oldest_age_seconds", ())] > 0
    assert samples[("lto_retries_total", ())] == 1
    assert samples[("lto_upstream_attempts_total", (("outcome", "failed"),))] == 3
    assert samples[("lto_upstream_latency_seconds_count", ())] == 4
    assert samples[("lto_account_paused", (("account", "default"),))] == 1


def test_sigterm_lets_a_worker_finish_what_it_is_sending(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup(KALEYRA_READ_TIMEOUT="5")
    kaleyra.delay = 1.0
    event_id = queue_offer(connector, offer())
    with worker(env, tmp_path) as running:
        wait_until(lambda: len(kaleyra.requests) == 1)
        running.terminate()  # SIGTERM, as an orchestrator stops a container
        assert running.wait(timeout=30) == 0
    assert event(connector, event_id)["status"] == "accepted"
    assert len(kaleyra.sent) == 1


def test_scaled_out_postgresql_store_redis_queue_two_workers(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra, tmp_path: Path, pg_url: str
) -> None:
    rate = "redis://127.0.0.1:6379/11"
    redis.Redis.from_url(rate).flushdb()
    connector = start_connector(database_url=pg_url, redis_url=rate, admin_keys=(ADMIN_KEY,))
    env = kaleyra_env(kaleyra, pg_url) | {"CONNECTOR_REDIS_URL": rate, "KALEYRA_RATE_LIMIT": "0"}
    kaleyra.delay = 0.01
    ids = [queue_offer(connector, offer(ref=f"p{i}")) for i in range(200)]
    with worker(env, tmp_path), worker(env, tmp_path):
        wait_until(lambda: len(kaleyra.sent) >= 200, timeout=60)
        wait_until(lambda: all(event(connector, i)["status"] == "accepted" for i in ids[-5:]))
    refs = [r.json["extra_info"]["ref"] for r in kaleyra.requests]
    assert len(refs) == len(set(refs)) == 200
    assert {event(connector, i)["status"] for i in ids} == {"accepted"}


def test_an_offer_whose_end_passes_while_its_account_is_paused_is_never_sent(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("E110")
    first = queue_offer(connector, offer(expires_in="3s"))
    with worker(env, tmp_path):
        wait_until(lambda: connector.get("/readyz").json().get("paused_accounts"))
        second = queue_offer(connector, offer(expires_in="3s", coupon_code="B"))
        time.sleep(3.2)  # both offers end while the account waits
        resumed = subprocess.run([*CLI, "accounts", "resume"], env=env, capture_output=True,
                                 text=True, timeout=60)  # fmt: skip
        assert resumed.returncode == 0, resumed.stderr
        wait_until(lambda: all(event(connector, i)["status"] == "expired" for i in (first, second)))
    assert len(kaleyra.requests) == 1  # only the attempt that found the account unpaid
    view = event(connector, second)
    assert view["error"]["kind"] == "expired" and view["attempts"] == []
    listed = subprocess.run([*CLI, "events", "--status", "expired", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    assert first in listed.stdout and second in listed.stdout
    replay = connector.post(f"/v1/events/{second}/replay", key=ADMIN_KEY)
    assert replay.status_code == 409 and "expired offer is never sent" in replay.json()["message"]
    assert 'lto_events{status="expired"} 2.0' in connector.get("/metrics").text


def test_retries_stop_at_the_offers_end(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    connector, env = setup()
    kaleyra.then("raw", status=429, body={"message": "slow down"}, headers={"Retry-After": "30"})
    event_id = queue_offer(connector, offer(expires_in="10s"))
    with worker(env, tmp_path):
        wait_until(settled(connector, event_id, "expired"))
    view = event(connector, event_id)
    assert [a["http_status"] for a in view["attempts"]] == [429]  # no retry after the end
    assert "expiry came before" in view["error"]["message"] and len(kaleyra.requests) == 1


def test_a_worker_never_dies_on_one_event(
    setup: Callable[..., Any], kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    """The previous release stored text Kaleyra's JSON cannot carry (a lone surrogate): such an
    event is a dead letter with its reason, and the worker goes on with the others."""
    from sqlalchemy import insert

    from connector.store.schema import events

    connector, env = setup()
    bad = queue_offer(connector, offer(coupon_code="BAD"))
    store = connector.runtime.store
    stored = store.get(bad)
    assert stored is not None
    payload = stored.payload
    payload["messaging_object"]["template"]["components"][1]["parameters"][0]["text"] = "\ud800"
    row = {name: getattr(stored, name) for name in stored.__slots__}
    with store.db.write() as conn:  # as release 0.1.0 stored it (SQLAlchemy's JSON, escaped)
        conn.execute(events.delete().where(events.c.id == bad))
        conn.execute(insert(events).values(**(row | {"payload": payload})))
    good = queue_offer(connector, offer(coupon_code="GOOD"))
    with worker(env, tmp_path) as running:
        wait_until(settled(connector, good, "accepted"))
        wait_until(settled(connector, bad, "dead"))
        assert running.poll() is None  # still running
    view = event(connector, bad)
    assert view["error"]["kind"] == "unencodable" and "UTF-8" in view["error"]["message"]
    assert [r.json["messaging_object"]["template"]["components"][3]["parameters"][0]["coupon_code"]
            for r in kaleyra.requests] == ["GOOD"]  # fmt: skip
