"""The account's rate, shared by every worker: no window above it, no 429 caused by us."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from connector.ratelimit import RateLimiter, RedisSlots, SlotStore, SqlSlots
from connector.store import EventStore
from tests.conftest import LiveConnector, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.served import kaleyra_env, wait_until, worker


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def slots(request: pytest.FixtureRequest, tmp_path: Path) -> SlotStore:
    if request.param == "redis":
        redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
        return RedisSlots("redis://127.0.0.1:6379/14")
    url = (
        f"sqlite:///{tmp_path}/rate.db"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    store = EventStore(url)
    store.create_schema()
    return SqlSlots(store.engine)


def max_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while times[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_concurrent_senders_share_one_pace(slots: SlotStore) -> None:
    limiter = RateLimiter(slots, per_second=100)
    stamps: list[float] = []

    def send(_: int) -> None:
        limiter.acquire("acme")
        stamps.append(time.monotonic())

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(send, range(120)))
    assert time.monotonic() - started >= 1.15  # 120 slots at 100/s: the last one after 1.19 s
    assert max_in_window(stamps, 0.5) <= 50 + 2  # the pace holds inside every half second


def test_accounts_do_not_share_a_limit(slots: SlotStore) -> None:
    limiter = RateLimiter(slots, per_second=10)
    started = time.monotonic()
    for account in ("a", "b", "c", "d"):
        limiter.acquire(account)
    assert time.monotonic() - started < 0.05


def test_3000_events_at_200_per_second_across_two_workers_stay_at_the_limit(
    start_connector: Callable[..., LiveConnector], tmp_path: Path
) -> None:
    limit = 20
    kaleyra = FakeKaleyra(per_second=limit).start()
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/13").flushdb()
        queue = "redis://127.0.0.1:6379/13"
        db_url = f"sqlite:///{tmp_path}/events.db"
        connector = start_connector(
            database_url=db_url,
            queue_url=queue,
            rate_limit=limit,
            kaleyra_base_url=kaleyra.base_url,
        )
        env = kaleyra_env(kaleyra, db_url) | {
            "CONNECTOR_QUEUE_URL": queue,
            "KALEYRA_RATE_LIMIT": str(limit),
            "CONNECTOR_LOG_LEVEL": "WARNING",
        }
        with worker(env, tmp_path, threads=8), worker(env, tmp_path, threads=8):
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:

                def post(i: int) -> int:
                    time.sleep(max(0.0, started + i / 200 - time.monotonic()))  # 200 per second
                    return connector.post(
                        "/v1/messages", json=offer(ref=f"r{i}"), headers={"Prefer": "respond-async"}
                    ).status_code

                assert set(pool.map(post, range(3000))) == {202}
            wait_until(lambda: len(kaleyra.sent) >= 3000, timeout=3000 / limit + 60, every=1)
        stamps = [r.at for r in kaleyra.requests]
        assert len(kaleyra.sent) == 3000 and len(kaleyra.requests) == 3000  # no 429 from Kaleyra
        assert max_in_window(stamps, 10.0) <= limit * 10 * 1.02  # no 10 s window above 204
    finally:
        kaleyra.stop()
