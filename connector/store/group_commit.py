"""Group commit: one writer thread commits the work of many waiting callers in one transaction.

A caller hands ``submit`` a unit of work (a function of the open transaction's connection) and
waits; the writer takes every unit queued while the previous transaction was committing, runs them
all in one transaction, commits (one flush to disk for the whole group) and then wakes each caller
with its own result. Under load, groups grow by themselves; alone, a caller pays one commit.

Units of the same batchable kind (``BatchUnit``: the intake's inserts) run as one statement for
the whole group, so the group holds the store's write lock for one round trip, not one per caller.

A unit that raises rolls its whole group back; the writer then runs each unit of that group in a
transaction of its own, so one bad unit fails alone. Units must therefore be safe to run again
after a rollback (inserts that ignore conflicts, updates guarded by the state they expect).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.engine import Connection

from .engine import Database

T = TypeVar("T")
logger = logging.getLogger("connector.store")


class BatchUnit:
    """A unit that can run together with others of its class: ``run_batch`` gets them all and
    returns their results in order. Called alone, it is a batch of one."""

    @classmethod
    def run_batch(cls, conn: Connection, units: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    def __call__(self, conn: Connection) -> Any:
        return self.run_batch(conn, [self])[0]


Unit = Callable[[Connection], Any]


class GroupCommitter:
    def __init__(self, db: Database, *, max_group: int = 512, name: str = "lto-writer") -> None:
        self.db = db
        self.max_group = max_group
        self.name = name
        self._queue: queue.SimpleQueue[tuple[Unit, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.groups = 0  # commits made, for tests and metrics
        self.units = 0

    def submit(self, unit: Callable[[Connection], T]) -> T:
        """Run ``unit`` in the next group's transaction; return once that transaction committed."""
        return self.later(unit).result()

    def later(self, unit: Callable[[Connection], T]) -> Future[T]:
        """Queue ``unit``; the future resolves once its group committed (or its unit failed)."""
        self._ensure_started()
        future: Future[T] = Future()
        self._queue.put((unit, future))
        return future

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=30)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < self.max_group:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)  # finish this group, then stop
                    break
                group.append(item)
            self._commit(group)

    def _commit(self, group: list[tuple[Unit, Future[Any]]]) -> None:
        live = [(unit, future) for unit, future in group if future.set_running_or_notify_cancel()]
        outcomes = commit_group(self.db, [unit for unit, _ in live])
        self.groups += 1
        self.units += len(live)
        for (_, future), (ok, result) in zip(live, outcomes, strict=True):
            if ok:
                future.set_result(result)
            else:
                future.set_exception(result)


def commit_group(db: Database, units: Sequence[Unit]) -> list[tuple[bool, Any]]:
    """Run ``units`` in one transaction; (True, result) or (False, exception) for each. When the
    group fails, each unit is run again alone, so only the unit at fault fails."""
    try:
        with db.write() as conn:
            return [(True, result) for result in run_group(conn, units)]
    except Exception as exc:
        if len(units) == 1:
            return [(False, exc)]
        logger.warning("a group of %d writes failed (%s); retrying each alone", len(units),
                       type(exc).__name__)  # fmt: skip
    outcomes: list[tuple[bool, Any]] = []
    for unit in units:
        try:
            with db.write() as conn:
                outcomes.append((True, unit(conn)))
        except Exception as exc:  # the caller gets the error; the writer lives on
            outcomes.append((False, exc))
    return outcomes


def run_group(conn: Connection, units: Sequence[Unit]) -> list[Any]:
    """Each unit's result, in order; batchable units of one class run as one batch."""
    results: list[Any] = [None] * len(units)
    batches: dict[type[BatchUnit], list[int]] = {}
    for index, unit in enumerate(units):
        if isinstance(unit, BatchUnit):
            batches.setdefault(type(unit), []).append(index)
        else:
            results[index] = unit(conn)
    for kind, indexes in batches.items():
        for index, result in zip(
            indexes, kind.run_batch(conn, [units[i] for i in indexes]), strict=True
        ):
            results[index] = result
    return results
