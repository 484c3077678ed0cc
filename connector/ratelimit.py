"""The per-account send rate, shared by every worker and web process on every host.

Each account has one sequence of send slots, one every ``1/rate`` seconds, kept in the store
(embedded) or in Redis (scaled out) and advanced atomically on that store's own clock. A worker
reserves a block of consecutive slots for a batch in one round trip; an inline (sync) send
reserves one. Slots are never shared, so no window of any length carries more than its share plus
one: the connector never causes Kaleyra's throttling. The slot row is a pace, not a record: it
is written without waiting for a disk flush, and if it is lost the pace simply starts again.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

import redis
from sqlalchemy import ColumnElement, case, func, insert, select, update
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import IntegrityError

from .store.engine import Database
from .store.schema import rate_slots


class SlotStore(Protocol):
    def reserve(self, account: str, interval_ms: float, count: int = 1) -> tuple[float, float]:
        """Reserve ``count`` consecutive slots ``interval_ms`` apart: (the first slot, now), both
        in ms on the store's own clock (slot ``i`` is ``i * interval_ms`` after the first)."""
        ...


def db_now_ms(conn: Connection) -> ColumnElement[Any]:
    """The database's clock in epoch ms, read when the statement runs (after any lock wait)."""
    if conn.dialect.name == "postgresql":
        return func.extract("epoch", func.clock_timestamp()) * 1000.0
    return (func.julianday("now") - 2440587.5) * 86_400_000.0


def slots_for(store_db: Database, redis_url: str | None) -> SlotStore:
    """Where the pace is shared: Redis when given (hosts share it), else PostgreSQL's own table
    (hosts sharing the store share it), else a file beside a SQLite store (one host)."""
    if redis_url:
        return RedisSlots(redis_url)
    if not store_db.sqlite:
        return SqlSlots(store_db)
    database = make_url(store_db.url).database or "lto-connector.db"
    return FileSlots(f"{Path(database).with_suffix('')}.pace")


class FileSlots:
    """Slots in a small file beside a SQLite store, shared by the processes of one host: each
    reservation reads and rewrites it under ``flock`` (a few system calls, no database and no
    flush: it is a pace, not a record; lost, the pace starts again)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd = -1
        self._pid = -1
        self._lock = threading.Lock()

    def reserve(self, account: str, interval_ms: float, count: int = 1) -> tuple[float, float]:
        with self._lock:
            if self._pid != os.getpid():  # a forked child opens its own descriptor
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                raw = os.pread(self._fd, 1 << 16, 0)
                pace: dict[str, float] = json.loads(raw) if raw.strip() else {}
                now = time.time() * 1000
                first = max(float(pace.get(account, 0.0)), now)
                pace[account] = first + interval_ms * count
                data = json.dumps(pace).encode()
                os.pwrite(self._fd, data, 0)
                os.ftruncate(self._fd, len(data))
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        return first, now


class SqlSlots:
    """Slots in the store's ``lto_rate_slots`` table (PostgreSQL: a row lock, no flush)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def reserve(self, account: str, interval_ms: float, count: int = 1) -> tuple[float, float]:
        span = interval_ms * count
        for _ in range(2):
            with self.db.write_unflushed() as conn:
                now = conn.execute(select(db_now_ms(conn))).scalar_one()  # after the lock
                nxt = rate_slots.c.next_ms
                first = case((nxt > now, nxt), else_=now)
                found = conn.execute(
                    update(rate_slots)
                    .where(rate_slots.c.account == account)
                    .values(next_ms=first + span)
                    .returning(rate_slots.c.next_ms - span)
                ).scalar()
                if found is not None:
                    return float(found), float(now)
                try:
                    with conn.begin_nested():
                        conn.execute(insert(rate_slots).values(account=account, next_ms=now + span))
                    return float(now), float(now)
                except IntegrityError:
                    continue  # another process created the row first: reserve through it
        raise RuntimeError("could not reserve a rate slot")


_RESERVE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(nxt, now_ms)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 3600000)
return {tostring(slot), tostring(now_ms)}
"""


class RedisSlots:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_RESERVE)

    def reserve(self, account: str, interval_ms: float, count: int = 1) -> tuple[float, float]:
        first, now = self.script(keys=[f"lto:rate:{account}"], args=[interval_ms * count])
        return float(first), float(now)


class RateLimiter:
    """``acquire(account)`` waits for one slot (inline sends); ``reserve(account, n)`` books n
    slots for a worker's batch and returns when each may leave.

    A sender that wakes well after its slot (a stalled host, a long GC pause) takes a fresh slot
    instead of sending late: a late send would land beside the slots after it, and Kaleyra counts
    arrivals. Each such retake costs one slot of throughput, never a burst above the rate.
    """

    LATE_S = 0.05  # how far past its slot a send may still leave
    RETAKES = 3  # then send anyway: a host this slow sends slowly enough on its own

    def __init__(
        self,
        slots: SlotStore,
        per_second: float | Mapping[str, float],
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``per_second``: one rate for every account, or each account's own (0 = no limit)."""
        self.slots = slots
        self.rates = per_second
        self.sleep = sleep

    def interval_ms(self, account: str) -> float:
        rates = self.rates
        rate = rates if isinstance(rates, int | float) else rates.get(account, 0.0)
        return 1000.0 / rate if rate > 0 else 0.0

    def rate(self, account: str) -> float:
        interval = self.interval_ms(account)
        return 1000.0 / interval if interval else 0.0

    def acquire(self, account: str) -> float:
        """Wait for this account's next slot; returns the seconds waited."""
        interval_ms = self.interval_ms(account)
        if not interval_ms:
            return 0.0
        waited = 0.0
        for _ in range(self.RETAKES + 1):
            first, now = self.slots.reserve(account, interval_ms)
            wait_s = max(0.0, (first - now) / 1000)
            slot_at = time.monotonic() + wait_s
            self.sleep(wait_s)
            waited += wait_s
            if time.monotonic() - slot_at <= self.LATE_S:
                break
        return waited

    def reserve(self, account: str, count: int) -> list[float]:
        """Book ``count`` slots; their times on ``time.monotonic()``'s clock."""
        now = time.monotonic()
        interval_ms = self.interval_ms(account)
        if not interval_ms or count <= 0:
            return [now] * count
        first_ms, store_now_ms = self.slots.reserve(account, interval_ms, count)
        first = now + max(0.0, (first_ms - store_now_ms) / 1000)
        return [first + i * interval_ms / 1000 for i in range(count)]


class Pacer:
    """This worker's share of each account's send slots, booked in blocks from the shared rate
    limiter (one round trip per block). A sender takes the next slot and sleeps until it; a
    slot whose moment passed more than ``RateLimiter.LATE_S`` ago is dropped, not used: a late
    send beside the slots after it would crowd them, and Kaleyra counts arrivals."""

    def __init__(self, limiter: RateLimiter, block_s: float) -> None:
        self.limiter = limiter
        self.block_s = block_s
        self._slots: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, account: str) -> None:
        rate = self.limiter.rate(account)
        if not rate:
            return
        with self._lock:
            slots = self._slots.setdefault(account, deque())
            stale = time.monotonic() - RateLimiter.LATE_S
            while slots and slots[0] < stale:
                slots.popleft()
            if not slots:
                slots.extend(self.limiter.reserve(account, max(1, round(rate * self.block_s))))
            slot = slots.popleft()
        delay = slot - time.monotonic()
        if delay > 0:
            time.sleep(delay)
