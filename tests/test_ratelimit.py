"""The account's rate, shared by every worker: no window above it, no 429 caused by us."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis
import requests

from connector.ratelimit import FileSlots, RateLimiter, RedisSlots, SlotStore, SqlSlots, slots_for
from connector.store import EventStore
from tests.conftest import CONNECTOR_KEY, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.served import kaleyra_env, serve, wait_until, worker


@pytest.fixture(params=["sqlite-file", "postgresql", "redis"])
def slots(request: pytest.FixtureRequest, tmp_path: Path) -> SlotStore:
    """Where each layout keeps the pace: a file beside a SQLite store, PostgreSQL, Redis."""
    url = (
        f"sqlite:///{tmp_path}/events.db"
        if request.param == "sqlite-file"
        else request.getfixturevalue("pg_url")
    )
    store = EventStore(url)
    store.ensure_schema()
    if request.param == "redis":
        redis.Redis.from_url("redis://127.0.0.1:6379/14").flushdb()
    found = slots_for(store.db, "redis://127.0.0.1:6379/14" if request.param == "redis" else None)
    expected = {"sqlite-file": FileSlots, "postgresql": SqlSlots, "redis": RedisSlots}
    assert isinstance(found, expected[request.param])
    return found


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
    # the pace holds inside every half second: its 50 slots, plus those a sender may leave up
    # to RateLimiter.LATE_S after their time (5 at 100/s), plus one
    assert max_in_window(stamps, 0.5) <= 50 + 100 * RateLimiter.LATE_S + 1


def test_workers_booking_blocks_of_slots_never_share_one(slots: SlotStore) -> None:
    """A worker books a batch's slots in one round trip; blocks booked at once by several
    workers never overlap on the store's clock, and follow each other without gaps."""
    blocks: list[tuple[float, float]] = []
    lock = threading.Lock()

    def book(_: int) -> None:
        for _ in range(10):
            first, _now = slots.reserve("acme", 1.0, 25)  # 25 slots at 1000/s
            with lock:
                blocks.append((first, first + 25.0))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(book, range(4)))
    blocks.sort()
    assert len(blocks) == 40
    assert all(b[0] >= a[1] - 1e-6 for a, b in zip(blocks, blocks[1:], strict=False))
    assert blocks[-1][1] - blocks[0][0] >= 1000 - 1e-6  # a thousand slots span a second


def test_a_block_of_slots_is_paced_evenly(slots: SlotStore) -> None:
    limiter = RateLimiter(slots, per_second=500)
    times = limiter.reserve("acme", 100)
    gaps = {round(b - a, 6) for a, b in zip(times, times[1:], strict=False)}
    assert gaps == {0.002} and times[0] >= time.monotonic() - 0.1


def test_a_sender_that_wakes_late_takes_a_new_slot_instead_of_crowding_the_next(
    slots: SlotStore,
) -> None:
    steady = RateLimiter(slots, per_second=10)
    stalls = [0.5]  # one host stalls for half a second (5 slots) right after reserving

    def stalled_sleep(seconds: float) -> None:
        time.sleep(seconds + (stalls.pop() if stalls else 0.0))

    stalled = RateLimiter(slots, per_second=10, sleep=stalled_sleep)
    stamps: list[float] = []

    def send(limiter: RateLimiter, count: int) -> None:
        for _ in range(count):
            limiter.acquire("acme")
            stamps.append(time.monotonic())

    with ThreadPoolExecutor(max_workers=2) as pool:
        running = pool.submit(send, steady, 12)
        time.sleep(0.25)
        pool.submit(send, stalled, 1).result()
        running.result()
    gaps = [b - a for a, b in zip(sorted(stamps), sorted(stamps)[1:], strict=False)]
    # a late send would land on a slot another sender holds (a gap near 0): it took its own
    assert len(stamps) == 13 and min(gaps) > 0.03, gaps


def test_accounts_do_not_share_a_limit(slots: SlotStore) -> None:
    limiter = RateLimiter(slots, per_second=10)
    assert [limiter.acquire(account) for account in ("a", "b", "c", "d")] == [0.0] * 4
    assert limiter.acquire("a") > 0.05  # a's next slot is 0.1 s after its first


@pytest.mark.slow
def test_3000_events_at_200_per_second_across_two_workers_stay_at_the_limit(
    tmp_path: Path,
) -> None:
    limit = 20
    # Kaleyra runs here, the connector and its two workers in their own processes, as deployed:
    # this process only posts and stamps arrivals, so its own load does not bunch the stamps.
    kaleyra = FakeKaleyra(per_second=limit).start()
    try:
        queue = "redis://127.0.0.1:6379/13"
        redis.Redis.from_url(queue).flushdb()
        env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db") | {
            "CONNECTOR_REDIS_URL": queue,
            "KALEYRA_RATE_LIMIT": str(limit),
            "CONNECTOR_LOG_LEVEL": "WARNING",
        }
        with (
            serve(env, tmp_path, workers=2, extra=("--no-embedded-worker",)) as served,
            worker(env, tmp_path, threads=8),
            worker(env, tmp_path, threads=8),
        ):
            session = requests.Session()
            session.headers.update(
                {"Authorization": f"Bearer {CONNECTOR_KEY}", "Prefer": "respond-async"}
            )
            started = time.monotonic()
            with ThreadPoolExecutor(max_workers=16) as pool:

                def post(i: int) -> int:
                    time.sleep(max(0.0, started + i / 200 - time.monotonic()))  # 200 per second
                    url = served.base_url + "/v1/messages"
                    return session.post(url, json=offer(ref=f"r{i}"), timeout=30).status_code

                assert set(pool.map(post, range(3000))) == {202}
            wait_until(lambda: len(kaleyra.sent) >= 3000, timeout=3000 / limit + 60, every=1)
        stamps = [r.at for r in kaleyra.requests]
        assert len(kaleyra.sent) == 3000 and len(kaleyra.requests) == 3000  # no 429 from Kaleyra
        assert max_in_window(stamps, 10.0) <= limit * 10 * 1.02  # no 10 s window above 204
    finally:
        kaleyra.stop()
