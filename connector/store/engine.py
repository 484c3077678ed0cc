"""Connections to the store: SQLite (the embedded default) or PostgreSQL.

``Database.write()`` is the one way to change the store. On SQLite every write transaction begins
``IMMEDIATE`` under an inter-process lock (``fcntl.flock`` on a file beside the database), so the
connector's writers queue in the kernel and hand over at once instead of spinning in SQLite's busy
handler; and every commit is flushed to disk (``synchronous=FULL``): an acknowledged offer survives
a power loss. Speed comes from committing many requests together (``group_commit.py``), never from
a weaker flush. Reads (``Database.read()``) take no lock: WAL mode lets them run beside a writer.
On PostgreSQL each commit waits for its WAL flush (the default ``synchronous_commit``).
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine, make_url


class DriverMissing(RuntimeError):
    """The store's driver is missing or the database cannot be opened."""


def postgres_url(url: str) -> str:
    """``postgresql://`` means the psycopg 3 driver (the ``postgres`` extra)."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("postgresql+psycopg"):
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise DriverMissing(
                "CONNECTOR_DATABASE_URL is PostgreSQL but its driver is not installed: "
                "pip install 'kaleyra-lto-connector[postgres]'"
            ) from None
    return url


class Database:
    """A reader engine and a writer path over one database URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = make_url(url).get_backend_name() == "sqlite"
        self._unflushed: Engine | None = None
        self._lock: WriterLock | None
        if self.sqlite:
            self.engine = _sqlite_engine(url, immediate=True)
            self.reader = _sqlite_engine(url, immediate=False)
            self._lock = WriterLock(_lock_path(url))
        else:
            self.engine = create_engine(
                postgres_url(url), pool_size=10, max_overflow=20, pool_pre_ping=True
            )
            self.reader = self.engine
            self._lock = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed (and flushed) when the block ends."""
        if self._lock is None:
            with self.engine.begin() as conn:
                yield conn
            return
        with self._lock, self.engine.begin() as conn:
            yield conn

    @contextmanager
    def write_unflushed(self) -> Iterator[Connection]:
        """A write that need not survive a power loss (a pace, a cache): committed without
        waiting for the disk. Never for anything a caller was told is stored."""
        if self._lock is None:
            with self.engine.begin() as conn:
                conn.execute(text("SET LOCAL synchronous_commit = off"))
                yield conn
            return
        if self._unflushed is None:
            self._unflushed = _sqlite_engine(self.url, immediate=True, synchronous="OFF")
        with self._lock, self._unflushed.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()
        if self.reader is not self.engine:
            self.reader.dispose()
        if self._unflushed is not None:
            self._unflushed.dispose()


def _sqlite_engine(url: str, *, immediate: bool, synchronous: str = "FULL") -> Engine:
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below decides
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _lock_path(url: str) -> str:
    database = make_url(url).database
    if not database or database == ":memory:":
        return os.path.join(os.path.realpath("."), ".lto-connector-memory.lock")
    return os.path.realpath(database) + ".lock"


class WriterLock:
    """One SQLite writer at a time across threads and processes, queued by the kernel."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._thread_lock = threading.Lock()
        self._fd: int | None = None
        self._pid = -1

    def __enter__(self) -> None:
        self._thread_lock.acquire()
        try:
            if self._fd is None or self._pid != os.getpid():  # a forked child opens its own
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._thread_lock.release()
