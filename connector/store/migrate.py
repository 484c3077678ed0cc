"""The store's schema version: Alembic migrations under ``migrations/versions``.

``upgrade`` brings any store to the newest revision (``lto-connector db upgrade``): an empty one
is created at it, one filled by release 0.1.0 (which had no version table) is recognised and
migrated with every event kept. ``ensure`` is what ``serve`` and ``worker`` call at start: an empty
store is created; an outdated one stops them with a one-line instruction.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from .engine import Database
from .schema import metadata

LEGACY_REVISION = "0001"  # what a store made by release 0.1.0 is
ADVISORY_LOCK = 0x4C544F  # PostgreSQL: one migrating process at a time


class SchemaOutdated(RuntimeError):
    pass


@dataclass(frozen=True)
class Upgrade:
    before: str | None  # None: the store was empty
    after: str


@functools.cache
def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head() -> str:
    revision = script().get_current_head()
    assert revision is not None
    return revision


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "connector.store:migrations")
    config.attributes["connection"] = conn
    return config


def _state(conn: Connection) -> tuple[str | None, bool]:
    """(the recorded revision, whether the store holds any of the connector's tables)."""
    tables = set(inspect(conn).get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision()
    return revision, bool(tables & set(metadata.tables))


def _lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})


def upgrade(db: Database) -> Upgrade:
    with db.write() as conn:
        _lock(conn)
        revision, filled = _state(conn)
        if revision is None and not filled:
            metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(script(), "head")
            return Upgrade(None, head())
        if revision is None:
            command.stamp(_config(conn), LEGACY_REVISION)
            revision = LEGACY_REVISION
        if revision != head():
            command.upgrade(_config(conn), "head")
        return Upgrade(revision, head())


def current(db: Database) -> str | None:
    with db.read() as conn:
        revision, filled = _state(conn)
    return revision or (LEGACY_REVISION if filled else None)


def ensure(db: Database) -> None:
    """Create an empty store at the newest schema; refuse to run on an outdated one."""
    revision = current(db)
    if revision is None:
        upgrade(db)
    elif revision != head():
        raise SchemaOutdated(
            f"The store's schema is at revision {revision}, this connector needs {head()}: "
            "run `lto-connector db upgrade` (back up the database first)."
        )
