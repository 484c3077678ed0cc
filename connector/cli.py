"""The ``lto-connector`` command: serve, worker, send, check, events (admin: admin_cli.py)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
from pathlib import Path
from typing import Any

import click

from .config import ConfigError, Settings
from .errors import ConnectorError
from .fields import mask_phone
from .jsonio import parse_json
from .kaleyra.payload import WA_SOURCES
from .offer import wall_clock_ms
from .serving import (
    EMBEDDED_WORKER_NICE,
    SERVE_DEFAULTS,
    Companion,
    Server,
    Supervisor,
    commit_socket_path,
    default,
    wait_for_socket,
)
from .store import EventStore


def load_settings() -> Settings:
    """The settings, with the connections checked: every problem printed, then exit 2."""
    try:
        settings = Settings.from_env()
        settings.load_connections()
        return settings
    except ConfigError as exc:
        click.echo("The connector cannot start:", err=True)
        for problem in exc.problems:
            click.echo(f"  - {problem}", err=True)
        sys.exit(2)


def open_store(settings: Settings) -> EventStore:
    """The store, at the newest schema (an empty one is created); else one line and exit 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from .store.engine import DriverMissing
    from .store.migrate import SchemaOutdated

    try:
        store = EventStore(settings.database_url)
        store.ensure_schema()
    except (DriverMissing, SchemaOutdated) as exc:
        click.echo(f"The connector cannot start: {exc}", err=True)
        sys.exit(2)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        click.echo(f"The connector cannot open its store {_safe_url(settings)}: {reason}", err=True)
        sys.exit(2)
    return store


@click.group(help="Send WhatsApp Limited-Time-Offer messages through Kaleyra.")
@click.version_option(package_name="kaleyra-lto-connector")
def main() -> None:
    pass


@main.command(help="Run the HTTP connector with gunicorn.")
@click.option(
    "--bind",
    default=lambda: os.environ.get("CONNECTOR_BIND", "127.0.0.1:8080"),
    show_default="127.0.0.1:8080 (CONNECTOR_BIND)",
    help="host:port to listen on.",
)
@click.option(
    "--workers",
    type=int,
    default=lambda: default("workers", "CONNECTOR_WORKERS"),
    show_default=f"{SERVE_DEFAULTS['workers']} (CONNECTOR_WORKERS)",
    help="Worker processes.",
)
@click.option(
    "--threads",
    type=int,
    default=lambda: default("threads", "CONNECTOR_THREADS"),
    show_default=f"{SERVE_DEFAULTS['threads']} (CONNECTOR_THREADS)",
    help="Threads per worker.",
)
@click.option(
    "--embedded-worker/--no-embedded-worker",
    default=lambda: os.environ.get("CONNECTOR_EMBEDDED_WORKER", "1") not in ("0", "false", "no"),
    show_default="on (CONNECTOR_EMBEDDED_WORKER)",
    help="Also run a delivery worker, so queued messages go out with nothing else running. "
    "Turn it off when `lto-connector worker` runs elsewhere.",
)
def serve(bind: str, workers: int, threads: int, embedded_worker: bool) -> None:
    settings = load_settings()
    open_store(settings).dispose()  # create or check the schema once, before workers fork
    connections = settings.load_connections()
    mode = (
        "SANDBOX (no Kaleyra credentials: nothing is sent)"
        if connections.sandbox
        else f"live, {len(connections.all)} connection(s)"
    )
    click.echo(f"lto-connector on http://{bind} — {mode}; store {_safe_url(settings)}", err=True)
    timeout_s = int(settings.connect_timeout + settings.read_timeout + 30)
    folder, socket_path = commit_socket_path()
    python = [sys.executable, "-m", "connector"]
    commit = Companion("commit process", [*python, "commit-process", "--socket", socket_path])
    companions = [commit]
    if embedded_worker:
        nice = str(EMBEDDED_WORKER_NICE)
        companions.append(Companion("delivery worker", [*python, "worker", "--nice", nice]))
    supervisor = Supervisor(companions)
    try:
        commit.start()
        wait_for_socket(socket_path, commit)
        # gunicorn's workers and the embedded worker write through it
        os.environ["CONNECTOR_COMMIT_SOCKET"] = socket_path
        for companion in companions[1:]:
            companion.start()
        supervisor.start()
        Server(bind=bind, workers=workers, threads=threads, timeout_s=timeout_s).run()
    finally:
        supervisor.stop()
        for companion in reversed(companions):  # the worker finishes its sends first
            companion.stop(timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@main.command("commit-process", hidden=True, help="The commit process `serve` runs.")
@click.option("--socket", "socket_path", required=True)
def commit_process(socket_path: str) -> None:
    from .logs import configure
    from .store.commit_process import run

    settings = load_settings()
    configure(settings.log_level)
    run(settings.database_url, socket_path)


@main.command(help="Deliver queued messages (run on any number of hosts).")
@click.option(
    "--threads",
    type=int,
    default=None,
    show_default="96 (CONNECTOR_WORKER_THREADS)",
    help="Requests in flight at most.",
)
@click.option("--nice", type=int, default=0, hidden=True, help="Lower this process's priority.")
def worker(threads: int | None, nice: int) -> None:
    from dataclasses import replace

    from .app import build_runtime
    from .delivery import Sweeper
    from .logs import configure
    from .notify.notifier import build_notifier

    settings = load_settings()
    if threads is not None:
        settings = replace(settings, worker_threads=threads)
    configure(settings.log_level)
    if nice:
        os.nice(nice)
    open_store(settings).dispose()
    runtime = build_runtime(settings)
    deliverer = runtime.deliverer
    sweeper = Sweeper(runtime.store, set(deliverer.senders), runtime.clock,
                      settings.retry_uncertain)  # fmt: skip
    sweeper.start()
    notifier = build_notifier(runtime)
    notifying = notifier.start()
    for stop_signal in (signal.SIGTERM, signal.SIGINT):  # finish what is in hand, then stop
        signal.signal(stop_signal, lambda *_: deliverer.stop())
    click.echo(
        f"lto-connector worker {deliverer.owner}: {settings.worker_threads} in flight at most, "
        f"store {_safe_url(settings)}",
        err=True,
    )
    try:
        deliverer.run()
    finally:
        sweeper.stop()
        notifier.stop()
        notifying.join(timeout=10)
        runtime.store.dispose()


def _offer_options(func: Any) -> Any:
    options = [
        click.option(
            "--file",
            "file_",
            type=click.Path(exists=True, dir_okay=False),
            help="A JSON file with the offer (flags override its fields).",
        ),
        click.option("--to", help="Recipient phone number."),
        click.option("--template", "template_name", help="Template name."),
        click.option("--language", help="Template language code (e.g. en_US)."),
        click.option("--header-image-id"),
        click.option("--header-image-url"),
        click.option("--header-video-id"),
        click.option("--header-video-url"),
        click.option(
            "--body", "body_params", multiple=True, help="Body variable (repeat, in order)."
        ),
        click.option("--expires-at", help="ISO-8601 with offset, or epoch ms."),
        click.option("--expires-in", help="Lifetime: 14d, 48h, 90m, P14D."),
        click.option("--coupon", "coupon_code", help="Copy-code coupon (1-15 chars)."),
        click.option("--url-param", help="URL button's dynamic suffix."),
        click.option("--ref"),
        click.option("--ref1"),
        click.option("--ref2"),
        click.option("--idempotency-key"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _offer_input(file_: str | None, flags: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if file_:
        try:
            data = parse_json(Path(file_).read_text(encoding="utf-8-sig"))
        except ValueError as exc:  # JsonRefused too: deep, non-standard, not JSON
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--file") from None
        if not isinstance(data, dict):
            raise click.BadParameter("must hold one JSON object (the offer)", param_hint="--file")
    for key, value in flags.items():
        if value not in (None, ()):
            data[key] = list(value) if isinstance(value, tuple) else value
    return data


_connection_option = click.option(
    "--connection",
    default=None,
    help="The connection (tenant) to send as; default: the only or first one.",
)


@main.command(help="Send one offer now (wa_source 'api'); prints the outcome as JSON.")
@_offer_options
@_connection_option
def send(file_: str | None, connection: str | None, **flags: Any) -> None:
    from .app import build_runtime
    from .offer import load_offer
    from .outcomes import failure_error
    from .relay import Submission
    from .templates import check_shape

    runtime = build_runtime(load_settings())
    tenant = runtime.tenants.get(connection) if connection else runtime.default_tenant
    if tenant is None:
        raise click.UsageError(f"no connection named {connection!r}")
    try:
        offer = load_offer(tenant.offer_schema, _offer_input(file_, flags))
        check_shape(tenant.connection.templates, offer)
        account = tenant.connection.account.name
        settled = runtime.relay.submit(Submission(offer, "api", "api", account=account))
    except ConnectorError as exc:
        click.echo(json.dumps(exc.to_body(), indent=2))
        sys.exit(1)
    event = settled.event
    if event.status != "accepted":
        click.echo(json.dumps(failure_error(event).to_body(), indent=2))
        sys.exit(1)
    click.echo(
        json.dumps(
            {
                "id": event.id,
                "status": event.status,
                "message_id": event.message_id,
                "sandbox": event.sandbox,
                "replayed": settled.replayed,
            },
            indent=2,
        )
    )


@main.command(help="Validate an offer and print the exact Kaleyra request, without sending.")
@_offer_options
@click.option(
    "--source",
    type=click.Choice(sorted(WA_SOURCES)),
    default="api",
    show_default=True,
    help="wa_source to put in the request.",
)
@_connection_option
def check(file_: str | None, source: str, connection: str | None, **flags: Any) -> None:
    from .app import make_sender, make_tenant
    from .kaleyra import build_request
    from .offer import load_offer
    from .templates import check_shape

    settings = load_settings()
    connections = settings.load_connections()
    chosen = connections.all.get(connection) if connection else next(iter(connections))
    if chosen is None:
        raise click.UsageError(f"no connection named {connection!r}")
    tenant = make_tenant(chosen, wall_clock_ms, settings.expiry_margin_s)
    try:
        offer = load_offer(tenant.offer_schema, _offer_input(file_, flags))
        check_shape(chosen.templates, offer)
        request = make_sender(chosen.account, settings).describe(build_request(offer, source))
    except ConnectorError as exc:
        click.echo(json.dumps(exc.to_body(), indent=2))
        sys.exit(1)
    click.echo(json.dumps(request, indent=2, ensure_ascii=False))


@main.command(help="List recent messages with their status (phone numbers masked).")
@click.option("--limit", type=int, default=20, show_default=True)
@click.option(
    "--status",
    help="Only this status: queued, leased, sending, accepted, failed, dead, uncertain, expired.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
def events(limit: int, status: str | None, as_json: bool) -> None:
    from .store import reports

    store = open_store(load_settings())
    for event in store.recent(limit, status):
        history = reports.statuses_of(store.db.reader, event.id)
        row: dict[str, Any] = {
            "id": event.id,
            "created": _iso(event.created_ms),
            "platform": event.platform,
            "to": mask_phone(str(event.offer.get("to", ""))),
            "template": event.offer.get("template_name"),
            "status": event.status,
            "message_id": event.message_id,
            "error": event.error_code or event.error_kind,
            "attempts": event.attempts,
            "delivery": event.delivery_status,
        }
        if as_json:
            row["statuses"] = [
                {"status": s["status"], "at": _iso(s["at_ms"]), "error_code": s["error_code"]}
                for s in history
            ]
            click.echo(json.dumps(row))
        else:
            row["delivery"] = " > ".join(
                f"{s['status']}@{_iso(s['at_ms'])[11:19]}" for s in history
            )
            click.echo("  ".join(str(row[k]) if row[k] not in (None, "") else "-" for k in row))


def _iso(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)


from . import admin_cli, manifests_cli  # noqa: E402,F401  (register their commands on main)
