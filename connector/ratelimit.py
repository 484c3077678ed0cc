"""The per-account send rate, shared by every worker on every host.

Each send reserves the account's next free slot (one every ``1/rate`` seconds) and waits for it:
strict pacing, so no window of any length carries more than its share plus one. The slot is kept
in the event database (embedded: SQLite or PostgreSQL) or in Redis (scaled out), and taken
atomically, so workers on many hosts share one limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import redis
from sqlalchemy import ColumnElement, case, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from .store.schema import rate_slots


class SlotStore(Protocol):
    def reserve(self, account: str, interval_ms: float) -> float:
        """Reserve the next slot; return its time in ms on this store's clock, and now."""
        ...


def db_now_ms(engine: Engine) -> ColumnElement[Any]:
    """The database's clock in epoch ms, read when the statement runs (after any lock wait)."""
    if engine.dialect.name == "postgresql":
        return func.extract("epoch", func.clock_timestamp()) * 1000.0
    return (func.julianday("now") - 2440587.5) * 86_400_000.0


class SqlSlots:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.now = db_now_ms(engine)

    def reserve(self, account: str, interval_ms: float) -> float:
        nxt = rate_slots.c.next_ms
        slot = case((nxt > self.now, nxt), else_=self.now)
        statement = (
            update(rate_slots)
            .where(rate_slots.c.account == account)
            .values(next_ms=slot + interval_ms)
            .returning(rate_slots.c.next_ms - interval_ms - self.now)
        )
        for _ in range(2):
            with self.engine.begin() as conn:
                wait_ms = conn.execute(statement).scalar()
            if wait_ms is not None:
                return float(wait_ms)
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        insert(rate_slots).values(account=account, next_ms=self.now + interval_ms)
                    )
                return 0.0
            except IntegrityError:
                continue  # another worker created the row first: reserve through it
        raise RuntimeError("could not reserve a rate slot")


_RESERVE = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + tonumber(now[2]) / 1000
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(nxt, now_ms)
redis.call('SET', KEYS[1], tostring(slot + tonumber(ARGV[1])), 'PX', 3600000)
return tostring(slot - now_ms)
"""


class RedisSlots:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_RESERVE)

    def reserve(self, account: str, interval_ms: float) -> float:
        return float(self.script(keys=[f"lto:rate:{account}"], args=[interval_ms]))


class RateLimiter:
    """``acquire(account)`` blocks until that account may send one message.

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

    def acquire(self, account: str) -> float:
        """Wait for this account's next slot; returns the seconds waited."""
        interval_ms = self.interval_ms(account)
        if not interval_ms:
            return 0.0
        waited = 0.0
        for _ in range(self.RETAKES + 1):
            wait_s = max(0.0, self.slots.reserve(account, interval_ms) / 1000)
            slot_at = time.monotonic() + wait_s
            self.sleep(wait_s)
            waited += wait_s
            if time.monotonic() - slot_at <= self.LATE_S:
                break
        return waited
