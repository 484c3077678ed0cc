"""Operator commands: ``replay``, ``accounts`` and ``db``."""

from __future__ import annotations

import sys
import time

import click

from .cli import _safe_url, load_settings, main, open_store
from .store.accounts import AccountStore


@main.command(help="Send dead, uncertain or failed messages again (same event id, new attempt).")
@click.argument("event_ids", nargs=-1)
@click.option(
    "--status",
    type=click.Choice(["dead", "uncertain", "failed"]),
    help="Replay every event with this status.",
)
def replay(event_ids: tuple[str, ...], status: str | None) -> None:
    store = open_store(load_settings())
    ids = list(event_ids)
    if status:
        ids += [event.id for event in store.recent(100_000, status)]
    if not ids:
        raise click.UsageError("name event ids, or give --status")
    refused = 0
    for event_id in ids:
        event = store.replay(event_id, int(time.time() * 1000))
        if event is None:
            click.echo(
                f"{event_id}: not replayable (unknown, or not dead/uncertain/failed)", err=True
            )
            refused += 1
            continue
        click.echo(f"{event.id}: queued")
    store.dispose()
    sys.exit(1 if refused else 0)


@main.group(help="Kaleyra accounts: a paused account's messages wait until you resume it.")
def accounts() -> None:
    pass


@accounts.command("list", help="Accounts the connector has paused (and resumed).")
def accounts_list() -> None:
    for row in AccountStore(open_store(load_settings())).all():
        state = "PAUSED" if row["paused"] else "active"
        click.echo(f"{row['name']}  {state}  {row['reason'] or '-'}")


@accounts.command("resume", help="Resume a paused account: its waiting messages go out.")
@click.argument("name", default="default")
def accounts_resume(name: str) -> None:
    if not AccountStore(open_store(load_settings())).resume(name):
        click.echo(f"{name}: not paused", err=True)
        sys.exit(1)
    click.echo(f"{name}: resumed; the workers send its waiting messages now")


@main.group(help="The store's schema (Alembic migrations).")
def db() -> None:
    pass


@db.command("upgrade", help="Create the store, or migrate it to this release's schema.")
def db_upgrade() -> None:
    from sqlalchemy.exc import SQLAlchemyError

    from .store import EventStore
    from .store.engine import DriverMissing
    from .store.migrate import upgrade

    settings = load_settings()
    try:
        store = EventStore(settings.database_url)
        done = upgrade(store.db)
    except (DriverMissing, SQLAlchemyError) as exc:
        click.echo(f"Cannot upgrade {_safe_url(settings)}: {exc}", err=True)
        sys.exit(2)
    if done.before == done.after:
        click.echo(f"{_safe_url(settings)}: already at revision {done.after}")
    elif done.before is None:
        click.echo(f"{_safe_url(settings)}: created at revision {done.after}")
    else:
        click.echo(f"{_safe_url(settings)}: upgraded from revision {done.before} to {done.after}")
    store.dispose()


@db.command("current", help="The store's schema revision, and this release's.")
def db_current() -> None:
    from .store import EventStore
    from .store.migrate import current, head

    settings = load_settings()
    store = EventStore(settings.database_url)
    click.echo(f"store {current(store.db) or 'empty'}; this release {head()}")
    store.dispose()
