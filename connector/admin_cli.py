"""Operator commands: ``lto-connector replay`` and ``lto-connector accounts``."""

from __future__ import annotations

import sys
import time

import click

from .cli import load_settings, main
from .store import EventStore
from .store.accounts import AccountStore


def _store() -> EventStore:
    store = EventStore(load_settings().database_url)
    store.create_schema()
    return store


@main.command(help="Send dead, uncertain or failed messages again (same event id, new attempt).")
@click.argument("event_ids", nargs=-1)
@click.option(
    "--status",
    type=click.Choice(["dead", "uncertain", "failed"]),
    help="Replay every event with this status.",
)
def replay(event_ids: tuple[str, ...], status: str | None) -> None:
    from .app import build_runtime

    runtime = build_runtime(load_settings())
    ids = list(event_ids)
    if status:
        ids += [event.id for event in runtime.store.recent(100_000, status)]
    if not ids:
        raise click.UsageError("name event ids, or give --status")
    refused = 0
    for event_id in ids:
        event = runtime.store.replay(event_id, int(time.time() * 1000))
        if event is None:
            click.echo(
                f"{event_id}: not replayable (unknown, or not dead/uncertain/failed)", err=True
            )
            refused += 1
            continue
        runtime.queue.enqueue(event.id)
        click.echo(f"{event.id}: queued")
    sys.exit(1 if refused else 0)


@main.group(help="Kaleyra accounts: a paused account's messages wait until you resume it.")
def accounts() -> None:
    pass


@accounts.command("list", help="Accounts the connector has paused (and resumed).")
def accounts_list() -> None:
    for row in AccountStore(_store().engine).all():
        state = "PAUSED" if row["paused"] else "active"
        click.echo(f"{row['name']}  {state}  {row['reason'] or '-'}")


@accounts.command("resume", help="Resume a paused account: its waiting messages go out.")
@click.argument("name", default="default")
def accounts_resume(name: str) -> None:
    if not AccountStore(_store().engine).resume(name):
        click.echo(f"{name}: not paused", err=True)
        sys.exit(1)
    click.echo(f"{name}: resumed; its queued messages go out with the next sweep")
