"""A campaign through the connector, side by side with the stack's ceiling and a naive relay.

    .venv/bin/python -m benchmarks.campaign [--seconds 8] [--setups ceiling,naive,embedded,scaled]
        [--upstream-ms 50] [--rate 1000] [--profile DIR]

Everything starts here, on loopback: a fast Kaleyra (aiohttp, answering after --upstream-ms, 429
above the account's --rate, at a lower CPU priority since it stands in for a remote API), the
ceiling (Flask under the same gunicorn as `lto-connector serve`, parsing JSON and answering 202),
the naive relay (gunicorn gthread 2 x 32, one `requests.post` per call, nothing stored), and the
connector twice: embedded (`lto-connector serve` defaults: SQLite, embedded worker) and scaled
out (PostgreSQL + Redis, `serve --no-embedded-worker` and two `lto-connector worker` processes).

Per connector setup: async `POST /v1/messages` (`Prefer: respond-async`) and CleverTap-format
`POST /hooks/clevertap` at 256 and 1,000 concurrent connections (CleverTap's 1 s deadline as the
client timeout), each burst starting on an empty queue as the ceiling's does (``--under-drain``:
back to back, each under the previous bursts' drain); then sync `POST /v1/messages` at 64
concurrent calls beside the naive relay's (naive, connector, connector, naive: the machine's drift
touches both alike). Then, at the account's rate and at half of it, a
backlog of twelve seconds stored with no worker running is drained (embedded: by `serve` itself,
its embedded worker writing through its commit process; scaled out: by two `lto-connector worker`
processes): the sustained rate, and the pace over every 5-second window. For each connector
burst it also prints where the two cores went: the web processes, the commit process, the
delivery worker, the loopback Kaleyra, and everything else (wrk, the databases, the kernel's
share of loopback networking), read from ``/proc``. Every request is a
distinct offer; sent-once means Kaleyra's accepted requests equal the distinct offers it saw, and
every stored event was sent.

The load generator is wrk when installed, else a slower Python client. All processes share this
machine's cores; compare the ratios, which come from one run.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shlex
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text

from benchmarks import fast_kaleyra, load
from benchmarks.procs import (
    PYTHON,
    busy_seconds,
    command_of,
    cpu_seconds,
    descendants,
    free_port,
    started,
    wait_until,
)
from benchmarks.profiles import Profiler, process_kind

API_KEY = "bench-connector-key-0c9f"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ASYNC_HEADERS = {
    "Content-Type": "application/json",
    "X-Api-Key": API_KEY,
    "Prefer": "respond-async",
}
SYNC_HEADERS = {"Content-Type": "application/json", "X-Api-Key": API_KEY}
# CleverTap's Basic auth: a connection's password may be one of its API keys
CLEVERTAP_HEADERS = {
    "Content-Type": "application/json",
    "Authorization": "Basic " + base64.b64encode(f"clevertap:{API_KEY}".encode()).decode(),
}


def offer_body(expires_at_ms: int) -> str:
    """A canonical offer whose ref and idempotency key are each request's token."""
    body = {
        "to": "+919876543210",
        "template_name": "lto_summer",
        "language": "en_US",
        "header_image_id": "1602186516975000",
        "body_params": ["Pablo", "CARIBE25"],
        "expires_at": expires_at_ms,
        "coupon_code": "CARIBE25",
        "url_param": "n3mtql",
        "ref": load.TOKEN,
        "idempotency_key": load.TOKEN,
    }
    return json.dumps(body)


def clevertap_body(expires_at_ms: int) -> str:
    """CleverTap's Generic provider request (PLATFORMS.md §5); msgId and {{1}} carry the token."""
    body = {
        "payloadVersion": 0.1,
        "wabaNumber": "918047000000",
        "to": "919876543210",
        "isTemplate": True,
        "msgId": load.TOKEN,
        "template": {"namespace": "diwali_lto_offer", "languageCode": "en"},
        "components": [
            {
                "type": "header",
                "header": {
                    "type": "image",
                    "image": {"mediaURL": "https://cdn.example.com/offers/diwali.jpg"},
                },
            },
            {
                "type": "body",
                "body": {
                    "parameters": [
                        {"type": "text", "text": load.TOKEN},
                        {"type": "text", "text": "30%"},
                    ]
                },
            },
            {
                "type": "limited_time_offer",
                "parameters": [
                    {
                        "type": "limited_time_offer",
                        "limited_time_offer": {"expiration_time_ms": expires_at_ms},
                    }
                ],
            },
            {
                "type": "button",
                "index": 0,
                "subType": "copy_code",
                "parameters": [{"type": "coupon_code", "coupon_code": "DIWALI30"}],
            },
            {
                "type": "button",
                "index": 1,
                "subType": "dynamicUrl",
                "parameters": [{"type": "text", "text": "diwali30"}],
            },
        ],
    }
    return json.dumps(body)


@dataclass
class Row:
    setup: str
    route: str
    concurrency: int
    result: load.Load
    ceiling: float | None = None  # the ceiling's acks/s at this concurrency
    naive: load.Load | None = None  # the naive relay's, measured beside this row's (sync)
    cores: dict[str, float] = field(default_factory=dict)  # where the CPU went in the burst


@dataclass
class SetupReport:
    name: str
    rows: list[Row] = field(default_factory=list)
    drains: list[str] = field(default_factory=list)
    sent_once: str = ""


# --- the upstream -------------------------------------------------------------------------------
class Upstream:
    def __init__(self, port: int, pid: int) -> None:
        self.pid = pid
        self.base = f"http://127.0.0.1:{port}"
        self.send_url = f"{self.base}/v2/{fast_kaleyra.SID}"

    def stats(self) -> dict[str, int]:
        return dict(requests.get(self.base + "/stats", timeout=10).json())

    def times(self) -> list[float]:
        return list(requests.get(self.base + "/times", timeout=30).json())

    def reset(self) -> None:
        requests.post(self.base + "/reset", timeout=10)


@contextmanager
def upstream(tmp: Path, delay_ms: float, rate: float) -> Iterator[Upstream]:
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "benchmarks.fast_kaleyra",
        "--port",
        str(port),
        "--delay-ms",
        str(delay_ms),
        "--rate",
        str(rate),
    ]
    with started(
        command, tmp / "kaleyra.log", ready_url=f"http://127.0.0.1:{port}/stats", nice=5
    ) as process:
        yield Upstream(port, process.pid)


# --- the setups -------------------------------------------------------------------------------
def connector_env(up: Upstream, database_url: str, rate: float, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALEYRA_", "CONNECTOR_"))}
    env.update(
        KALEYRA_SID=fast_kaleyra.SID,
        KALEYRA_API_KEY=fast_kaleyra.API_KEY,
        KALEYRA_SENDER=fast_kaleyra.SENDER,
        KALEYRA_BASE_URL=up.send_url,
        KALEYRA_RATE_LIMIT=f"{rate:g}",
        CONNECTOR_API_KEYS=API_KEY,
        CONNECTOR_DATABASE_URL=database_url,
        CONNECTOR_DEFAULT_REGION="IN",
        CONNECTOR_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@contextmanager
def gunicorn(
    app: str,
    tmp: Path,
    workers: int,
    threads: int,
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "gunicorn",
        "-k",
        "gthread",
        "-w",
        str(workers),
        "--threads",
        str(threads),
        "-b",
        f"127.0.0.1:{port}",
        "--backlog",
        "4096",
        app,
    ]
    base = f"http://127.0.0.1:{port}"
    with started(command, tmp / f"{app.split(':')[0]}.log", env=env, ready_url=base + "/"):
        yield base


@contextmanager
def serve(env: dict[str, str], tmp: Path, *extra: str) -> Iterator[tuple[str, int]]:
    port = free_port()
    command = [PYTHON, "-m", "connector", "serve", "--bind", f"127.0.0.1:{port}", *extra]
    base = f"http://127.0.0.1:{port}"
    with started(command, tmp / "serve.log", env=env, ready_url=base + "/healthz") as process:
        yield base, process.pid


@contextmanager
def workers(env: dict[str, str], tmp: Path, count: int) -> Iterator[list[int]]:
    with ExitStack() as stack:
        pids = [
            stack.enter_context(
                started([PYTHON, "-m", "connector", "worker"], tmp / f"worker-{i}.log", env=env)
            ).pid
            for i in range(count)
        ]
        yield pids


@contextmanager
def postgres_database() -> Iterator[str]:
    name = f"lto_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def redis_db(db: int) -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


# --- measuring --------------------------------------------------------------------------------
def stored_events(base_url: str) -> int:
    page = requests.get(base_url + "/metrics", timeout=30).text
    found = re.search(r"^lto_events_received_total (\S+)$", page, re.M)
    if found is None:
        raise RuntimeError("/metrics has no lto_events_received_total")
    return int(float(found[1]))


def burst(
    base: str,
    route: str,
    body: str,
    headers: dict[str, str],
    concurrency: int,
    args: argparse.Namespace,
    label: str,
    timeout_s: float = 30.0,
) -> load.Load:
    spec = load.Spec(
        base + route,
        headers,
        body,
        f"{label}-{uuid.uuid4().hex[:6]}",
        args.seconds,
        concurrency,
        timeout_s,
    )
    return load.run(spec)


class CoreMeter:
    """Where the machine's cores went during the blocks it measures (added up over all of
    them): per process kind (web, commit process, delivery worker, the loopback Kaleyra) and
    everything else (the load generator, the databases, the kernel's share of loopback
    networking, any other process), in cores."""

    def __init__(self, pids: list[int], upstream_pid: int) -> None:
        self.kinds = {pid: process_kind(command_of(pid)) or "web" for pid in pids}
        self.kinds[upstream_pid] = "kaleyra"
        self.seconds: dict[str, float] = {}
        self.wall = 0.0

    def __enter__(self) -> CoreMeter:
        self.began = time.monotonic(), busy_seconds(), {p: cpu_seconds(p) for p in self.kinds}
        return self

    def __exit__(self, *_: object) -> None:
        began, busy, used = self.began
        self.wall += time.monotonic() - began
        ours = 0.0
        for pid, kind in self.kinds.items():
            spent = max(0.0, cpu_seconds(pid) - used[pid])
            self.seconds[kind] = self.seconds.get(kind, 0.0) + spent
            ours += spent
        other = max(0.0, busy_seconds() - busy - ours)
        self.seconds["other"] = self.seconds.get("other", 0.0) + other

    @property
    def cores(self) -> dict[str, float]:
        return {kind: spent / self.wall for kind, spent in self.seconds.items()}


def rate_windows(times: list[float], rate: float, window: float = 5.0) -> tuple[float, float, int]:
    """(lowest, highest) count over every 5-s window after the first second, as a fraction of
    rate x 5 s, and the number of windows checked."""
    times = sorted(times)
    start, end = times[0] + 1.0, times[-1] - window
    lows, highs, n = 10.0, 0.0, 0
    t = start
    import bisect

    while t <= end:
        count = bisect.bisect_left(times, t + window) - bisect.bisect_left(times, t)
        share = count / (rate * window)
        lows, highs, n = min(lows, share), max(highs, share), n + 1
        t += 0.1
    return lows, highs, n


def connector_setup(
    name: str,
    base: str,
    up: Upstream,
    args: argparse.Namespace,
    ceiling: dict[int, float],
    profiler: Profiler,
    pids: list[int],
    naive_base: str | None = None,
) -> SetupReport:
    report = SetupReport(name)
    expires = int(time.time() * 1000) + 14 * 86_400_000
    offers, clevertap = offer_body(expires), clevertap_body(expires)
    up.reset()
    burst(base, "/v1/messages", offers, ASYNC_HEADERS, 256, args, "warm")  # warm-up, not shown
    wait_until(lambda: up.stats()["accepted"] >= stored_events(base), timeout=600, every=0.2)
    # every process is up by now (gunicorn forks its second worker after answering)
    pids = sorted({p for pid in pids for p in (pid, *descendants(pid))})
    acked = 0
    for route, body, headers, timeout_s in (
        ("/v1/messages", offers, ASYNC_HEADERS, 30.0),
        ("/hooks/clevertap", clevertap, CLEVERTAP_HEADERS, 1.0),
    ):
        for concurrency in (256, 1000):
            tag = f"{name}-{route.rsplit('/', 1)[-1]}-{concurrency}"
            if not args.under_drain:  # each burst meets an empty queue, as the ceiling does
                wait_until(lambda: up.stats()["accepted"] >= stored_events(base), timeout=900,
                           every=0.2)  # fmt: skip
            with profiler.record(tag, pids, args.seconds), CoreMeter(pids, up.pid) as meter:
                result = burst(base, route, body, headers, concurrency, args, tag, timeout_s)
            acked += result.ok
            report.rows.append(
                Row(name, route + " async", concurrency, result, ceiling.get(concurrency),
                    cores=meter.cores)
            )  # fmt: skip
    wait_until(lambda: up.stats()["accepted"] >= stored_events(base), timeout=900, every=0.2)
    stats = up.stats()
    stored = stored_events(base)
    report.sent_once = (
        f"stored {stored}, acked {acked}+warm-up; Kaleyra accepted {stats['accepted']}, "
        f"distinct {stats['distinct']}, duplicates {stats['duplicates']}, "
        f"429s {stats['throttled']}, refused {stats['refused']}"
    )
    if naive_base is None:
        with profiler.record(f"{name}-sync-64", pids, args.seconds):
            result = burst(base, "/v1/messages", offers, SYNC_HEADERS, 64, args, f"{name}-sync")
        report.rows.append(Row(name, "/v1/messages sync", 64, result))
        return report
    # beside the naive relay, in the order naive, connector, connector, naive: the machine's
    # drift over the half minute touches both alike
    runs: dict[str, list[load.Load]] = {"naive": [], "connector": []}
    meter = CoreMeter(pids, up.pid)
    for who in ("naive", "connector", "connector", "naive"):
        if who == "naive":
            runs[who].append(burst(naive_base, "/v1/messages", offers, SYNC_HEADERS, 64, args,
                                   f"{name}-naive"))  # fmt: skip
            continue
        with profiler.record(f"{name}-sync-64-{len(runs[who])}", pids, args.seconds), meter:
            runs[who].append(burst(base, "/v1/messages", offers, SYNC_HEADERS, 64, args,
                                   f"{name}-sync"))  # fmt: skip
    report.rows.append(
        Row(name, "/v1/messages sync", 64, load.combined(runs["connector"]),
            naive=load.combined(runs["naive"]), cores=meter.cores)
    )  # fmt: skip
    return report


def backlog_phase(env: dict[str, str], folder: Path, up: Upstream, rate: float, count: int,
                  ) -> tuple[float, str]:  # fmt: skip
    """A backlog of ``rate`` x 12 s stored while no worker runs, then drained: by ``count``
    ``lto-connector worker`` processes, or (``count`` 0) by ``serve``'s own embedded worker, as
    the embedded layout runs it (its writes through serve's commit process). Returns (the
    sustained rate after the first second, the pace over every 5-s window)."""
    expires = int(time.time() * 1000) + 14 * 86_400_000
    backlog = int(rate * 12)
    with serve(env, folder, "--no-embedded-worker") as (base, _pid):
        before = stored_events(base)
        label = f"backlog-{uuid.uuid4().hex[:6]}"
        while stored_events(base) - before < backlog:
            spec = load.Spec(base + "/v1/messages", ASYNC_HEADERS, offer_body(expires),
                             f"{label}-{stored_events(base)}", 2, 256)  # fmt: skip
            load.run(spec)
        stored = stored_events(base) - before
    up.reset()
    with serve(env, folder) if count == 0 else workers(env, folder, count):
        wait_until(lambda: up.stats()["accepted"] >= stored, timeout=900, every=0.2)
    times = sorted(up.times())
    steady = [t for t in times if t >= times[0] + 1.0]
    sustained = len(steady) / (steady[-1] - steady[0]) if len(steady) > 1 else 0.0
    low, high, windows = rate_windows(times, rate)
    stats = up.stats()
    text = (
        f"rate {rate:g}/s, {f'{count} workers' if count else 'serve'} draining {stored}: "
        f"{sustained:.0f} msg/s after the "
        f"first second; every 5-s window between {low:.1%} and {high:.1%} of {rate * 5:g} "
        f"({windows} windows), {stats['accepted']} sent, {stats['duplicates']} twice, "
        f"{stats['throttled']} 429s"
    )
    return sustained, text


# --- main ---------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="each measured burst")
    parser.add_argument("--setups", default="ceiling,naive,embedded,scaled")
    parser.add_argument("--upstream-ms", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="the account's rate")
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--profile", type=Path, help="py-spy each burst into this folder")
    parser.add_argument("--under-drain", action="store_true",
                        help="start each burst while the previous ones still drain (a campaign "
                        "of back-to-back sends) instead of on an empty queue")  # fmt: skip
    args = parser.parse_args()
    setups = args.setups.split(",")
    try:
        from connector.serving import SERVE_DEFAULTS
    except ImportError:  # a checkout from before serving.py (0.1.0): its serve's own defaults
        SERVE_DEFAULTS = {"worker_class": "gthread", "workers": 2, "threads": 8}

    workers_n, threads_n = SERVE_DEFAULTS["workers"], SERVE_DEFAULTS["threads"]
    command = [os.path.relpath(PYTHON), "-m", "benchmarks.campaign", *sys.argv[1:]]
    print(f"$ {shlex.join(command)}")
    print(
        f"load: {load.generator()}, keep-alive, {args.seconds:g} s per burst, distinct offers; "
        f"{os.cpu_count()} cores shared by all; Kaleyra answers after {args.upstream_ms:g} ms, "
        f"429 above {args.rate:g}/s; serve defaults {SERVE_DEFAULTS}"
    )
    began = time.monotonic()
    profiler = Profiler(args.profile)
    reports: list[SetupReport] = []
    ceiling: dict[int, float] = {}
    naive_sync: load.Load | None = None
    naive_base: str | None = None  # kept running: each setup's sync calls are measured beside it
    with tempfile.TemporaryDirectory() as tmp_name, ExitStack() as stack:
        tmp = Path(tmp_name)
        up = stack.enter_context(upstream(tmp, args.upstream_ms, args.rate))
        expires = int(time.time() * 1000) + 14 * 86_400_000
        if "ceiling" in setups:
            report = SetupReport("ceiling")
            with gunicorn("benchmarks.ceiling_app:app", tmp, workers_n, threads_n) as base:
                burst(base, "/v1/messages", offer_body(expires), ASYNC_HEADERS, 256, args, "w")
                for concurrency in (256, 1000):
                    result = burst(
                        base,
                        "/v1/messages",
                        offer_body(expires),
                        ASYNC_HEADERS,
                        concurrency,
                        args,
                        "ceiling",
                    )
                    ceiling[concurrency] = result.rate
                    report.rows.append(Row("ceiling", "parse JSON, 202", concurrency, result))
            reports.append(report)
            print_table(reports[-1:], naive_sync)
        if "naive" in setups:
            report = SetupReport("naive")
            env = dict(os.environ) | {
                "NAIVE_UPSTREAM_URL": f"{up.send_url}/whatsapp/{fast_kaleyra.SENDER}/messages",
                "NAIVE_API_KEY": fast_kaleyra.API_KEY,
            }
            naive_base = stack.enter_context(gunicorn("benchmarks.naive_app:app", tmp, 2, 32, env))
            burst(naive_base, "/v1/messages", offer_body(expires), SYNC_HEADERS, 64, args, "w")
            naive_sync = burst(
                naive_base, "/v1/messages", offer_body(expires), SYNC_HEADERS, 64, args, "naive"
            )
            report.rows.append(Row("naive", "requests.post relay, sync", 64, naive_sync))
            reports.append(report)
            print_table(reports[-1:], naive_sync, head=False)
        if "embedded" in setups:
            folder = tmp / "embedded"
            folder.mkdir()
            env = connector_env(up, f"sqlite:///{folder}/lto-connector.db", args.rate)
            with serve(env, folder) as (base, pid):
                pids = [pid, *descendants(pid)]
                reports.append(
                    connector_setup("embedded", base, up, args, ceiling, profiler, pids, naive_base)
                )
            print_table(reports[-1:], naive_sync, head=False)
            for rate in (args.rate, args.rate / 2):
                env = connector_env(up, f"sqlite:///{folder}/lto-connector.db", rate)
                reports[-1].drains.append(backlog_phase(env, folder, up, rate, 0)[1])
        if "scaled" in setups:
            folder = tmp / "scaled"
            folder.mkdir()
            with postgres_database() as db_url, redis_db(args.redis_db) as redis_url:
                # CONNECTOR_QUEUE_URL too: what a 0.1.0 checkout reads (--against an old one)
                shared = {"CONNECTOR_REDIS_URL": redis_url, "CONNECTOR_QUEUE_URL": redis_url}
                env = connector_env(up, db_url, args.rate, **shared)
                with (
                    serve(env, folder, "--no-embedded-worker") as (base, pid),
                    workers(env, folder, 2) as worker_pids,
                ):
                    pids = [pid, *descendants(pid), *worker_pids]
                    reports.append(
                        connector_setup(
                            "scaled", base, up, args, ceiling, profiler, pids, naive_base
                        )
                    )
                print_table(reports[-1:], naive_sync, head=False)
                for rate in (args.rate, args.rate / 2):
                    env = connector_env(up, db_url, rate, **shared)
                    reports[-1].drains.append(backlog_phase(env, folder, up, rate, 2)[1])
    print_table(reports, naive_sync)
    profiler.summarise()
    print(f"wall time {time.monotonic() - began:.0f} s")


def print_table(
    reports: list[SetupReport],
    naive_sync: load.Load | None,
    head: bool = True,
) -> None:
    """The table (``head=False``: a setup's rows as soon as they are measured)."""
    title = (
        f"{'setup':<9}{'route':<27}{'conc':>5}{'acks/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'errors':>7}{'timeouts':>9}  {'ratio':>22}"
    )
    print("\n" + title if head else "")
    for report in reports:
        for row in report.rows:
            r = row.result
            ratio = ""
            if row.ceiling:
                ratio = f"{r.rate / row.ceiling:.2f}x ceiling"
            elif "sync" in row.route and report.name != "naive":
                naive = row.naive or naive_sync
                if naive and naive.rate:
                    ratio = f"{r.rate / naive.rate:.2f}x naive, p99 {r.p99_ms / naive.p99_ms:.2f}x"
            print(
                f"{row.setup:<9}{row.route:<27}{row.concurrency:>5}{r.rate:>9.0f}"
                f"{r.p50_ms:>9.1f}{r.p99_ms:>9.1f}{r.errors:>7}{r.timeouts:>9}  {ratio:>22}"
            )
    metered = [row for report in reports for row in report.rows if row.cores]
    if metered:
        print("\nwhere the cores went (of " + f"{os.cpu_count()}" + ") during each burst:")
        for row in metered:
            spent = ", ".join(f"{kind} {cores:.2f}" for kind, cores in row.cores.items())
            print(f"  {row.setup:<9}{row.route:<27}{row.concurrency:>5}  {spent}")
    for report in reports:
        if report.sent_once:
            print(f"\n{report.name}: bursts sent once: {report.sent_once}")
        for drain in report.drains:
            print(f"{report.name}: {drain}")


if __name__ == "__main__":
    main()
