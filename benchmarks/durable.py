"""Durable accepts and delivery through `lto-connector serve`, next to a naive relay, in one run.

    .venv/bin/python -m benchmarks.durable [--seconds 10] [--warmup 3] [--connections 256]
        [--upstream-ms 50] [--worker-threads 8] [--redis-db 12] [--load wrk|python] [--keep-alive]

Three setups, each driven by the same closed loop of --connections concurrent clients, every
request a distinct offer (own idempotency key) posted to /v1/messages on a new connection, as
webhook senders do (--keep-alive reuses them, but gunicorn's two processes then split the
connections unevenly, differently each run, and the figures swing twofold):

- embedded: `serve` (2 workers x 8 threads) on SQLite with the SQLite queue and its embedded worker;
- scaled: PostgreSQL store (a fresh database, dropped after) and Redis queue (db --redis-db, flushed
  before and after), `serve --no-embedded-worker` plus one `lto-connector worker`;
- naive: benchmarks/naive_app.py under gunicorn (2 workers x 8 gthreads): a fresh `requests.post`
  to Kaleyra per webhook, nothing stored, 202 after Kaleyra answered.

The connector is called with `Prefer: respond-async`: accepts/s and p50/p99 are for the durable
ack (committed and queued). Delivered/s is measured after the load stops: from the moment the
store holds N undelivered events until the loopback Kaleyra (answering after --upstream-ms, with
KALEYRA_RATE_LIMIT=0) has accepted them all; each run starts with the previous backlog delivered.
The load generator is wrk when installed, else a slower pure-Python asyncio client in its own
process. Everything shares this machine's cores. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import redis
import requests
from sqlalchemy import create_engine, text

from tests.conftest import CONNECTOR_KEY, POSTGRES_ADMIN_URL, offer
from tests.kaleyra_fake import API_KEY, SENDER, FakeKaleyra
from tests.served import free_port, kaleyra_env, serve, stop, worker

ROOT = Path(__file__).resolve().parent.parent
HEADERS = {
    "Content-Type": "application/json",
    "X-Api-Key": CONNECTOR_KEY,
    "Prefer": "respond-async",
}
DRAIN_TIMEOUT_S = 600


@dataclass
class Load:
    ok: int  # 2xx answers
    failed: int  # other statuses, timeouts, socket errors
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds


@dataclass
class Row:
    setup: str
    load: Load
    delivered_per_s: float
    note: str


# --- load generators: a closed loop of `connections` clients for `seconds` --------------------
@dataclass(frozen=True)
class Spec:
    url: str
    headers: dict[str, str]
    prefix: str  # the offer's JSON up to its idempotency key, which each request fills in
    suffix: str
    label: str
    seconds: float
    connections: int


def body_parts() -> tuple[str, str]:
    expires_at = int(time.time() * 1000) + 14 * 86_400_000  # epoch ms: the naive app copies it
    body = json.dumps(offer(expires_in=None, expires_at=expires_at, idempotency_key="KEY"))
    prefix, suffix = body.split('"KEY"')
    return prefix + '"', '"' + suffix


WRK_SCRIPT = """
wrk.method = "POST"
{headers}
local prefix, suffix, label, n, threads = [==[{prefix}]==], [==[{suffix}]==], "{label}", 0, 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, prefix .. label .. "-" .. id .. "-" .. n .. suffix)
end
function done(s, latency)
  local e = s.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", s.requests - e.status,
    e.status + e.connect + e.read + e.write + e.timeout, s.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(spec: Spec) -> Load:
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in spec.headers.items())
    lua = WRK_SCRIPT.format(
        headers=headers, prefix=spec.prefix, suffix=spec.suffix, label=spec.label
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        command = [
            "wrk",
            "-t2",
            f"-c{spec.connections}",
            f"-d{spec.seconds:g}s",
            "--timeout",
            "30s",
        ]
        out = subprocess.run(
            [*command, "-s", script.name, spec.url],
            capture_output=True, text=True, timeout=spec.seconds + 60,
        ).stdout  # fmt: skip
    ok, failed, micros, p50, p99 = map(int, re.search(r"^RESULT (.+)$", out, re.M)[1].split())
    return Load(ok, failed, micros / 1e6, p50 / 1000, p99 / 1000)


def python_load(spec: Spec) -> Load:
    """The same closed loop with asyncio streams (run in its own process; slower than wrk)."""
    return asyncio.run(_python_load(spec))


async def _python_load(spec: Spec) -> Load:
    parts = urlsplit(spec.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in spec.headers.items())
    latencies: list[float] = []
    failed = 0
    started = time.perf_counter()
    deadline = started + spec.seconds

    async def client(c: int) -> None:
        nonlocal failed
        reader = writer = None
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            body = f"{spec.prefix}{spec.label}-{c}-{n}{spec.suffix}".encode()
            sent = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status, close = await asyncio.wait_for(_response(reader), 30)
            except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError):
                status, close = 0, True
            if 200 <= status < 300:
                latencies.append(time.perf_counter() - sent)
            else:
                failed += 1
            if (close or "Connection" in spec.headers) and writer is not None:
                writer.close()
                reader = writer = None

    await asyncio.gather(*(client(c) for c in range(spec.connections)))
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[int(p * (len(latencies) - 1))] * 1000 if latencies else 0.0

    return Load(len(latencies), failed, wall, pct(0.50), pct(0.99))


async def _response(reader: asyncio.StreamReader | None) -> tuple[int, bool]:
    assert reader is not None
    status = int((await reader.readline()).split()[1])
    length, close = 0, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
        elif name.strip().lower() == "connection":
            close = value.strip().lower() == "close"
    await reader.readexactly(length)
    return status, close


def generate(url: str, label: str, seconds: float, args: argparse.Namespace) -> Load:
    headers = HEADERS if args.keep_alive else HEADERS | {"Connection": "close"}
    spec = Spec(url, headers, *body_parts(), label, seconds, args.connections)
    if args.load == "wrk":
        return wrk_load(spec)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(python_load, spec).result(timeout=seconds + 120)


# --- the three setups -------------------------------------------------------------------------
def stored_events(base_url: str) -> int:
    page = requests.get(base_url + "/metrics", timeout=30).text
    return int(float(re.search(r"^lto_events_received_total (\S+)$", page, re.M)[1]))


def settled(count: Callable[[], int]) -> int:
    """count() once it stops moving: requests in flight when the load stopped have landed."""
    value = count()
    for _ in range(40):
        time.sleep(0.25)
        value, previous = count(), value
        if value == previous:
            break
    return value


def drain(base_url: str, kaleyra: FakeKaleyra, before: int) -> tuple[float, str]:
    """Wait until Kaleyra has accepted every stored event: (messages/s while draining, a note)."""
    stored = settled(lambda: stored_events(base_url))
    started, delivered_then = time.monotonic(), len(kaleyra.sent) - before
    while len(kaleyra.sent) - before < stored and time.monotonic() < started + DRAIN_TIMEOUT_S:
        time.sleep(0.05)
    delivered = len(kaleyra.sent) - before
    drained = delivered - delivered_then
    rate = drained / (time.monotonic() - started)
    return rate, f"drained {drained}; sent {delivered} of {stored} stored"


def connector_row(setup: str, base_url: str, kaleyra: FakeKaleyra, args: argparse.Namespace) -> Row:
    before = len(kaleyra.sent)
    generate(base_url + "/v1/messages", f"{setup}-warm", args.warmup, args)
    drain(base_url, kaleyra, before)  # start the measured run from an idle connector
    load = generate(base_url + "/v1/messages", f"{setup}-run", args.seconds, args)
    rate, note = drain(base_url, kaleyra, before)
    return Row(setup, load, rate, note)


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
def redis_queue(db: int) -> Iterator[str]:
    url = f"redis://127.0.0.1:6379/{db}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield url
    finally:
        client.flushdb()
        client.close()


@contextmanager
def naive_server(kaleyra: FakeKaleyra, log: Path) -> Iterator[str]:
    port = free_port()
    env = os.environ | {
        "NAIVE_UPSTREAM_URL": f"{kaleyra.base_url}/whatsapp/{SENDER}/messages",
        "NAIVE_API_KEY": API_KEY,
    }
    gunicorn = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "2", "--threads", "8"]
    with log.open("ab") as out:
        process = subprocess.Popen(
            [*gunicorn, "-b", f"127.0.0.1:{port}", "benchmarks.naive_app:app"],
            env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(base_url, timeout=1)  # any answer (404) means it listens
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield base_url
    finally:
        stop(process)


def naive_row(base_url: str, kaleyra: FakeKaleyra, args: argparse.Namespace) -> Row:
    generate(base_url + "/v1/messages", "naive-warm", args.warmup, args)
    settled(lambda: len(kaleyra.requests))  # the warm-up's queued requests are relayed first
    started = time.monotonic()
    load = generate(base_url + "/v1/messages", "naive-run", args.seconds, args)
    ended = time.monotonic()
    relayed = sum(started <= r.at <= ended for r in kaleyra.sent)
    note = f"Kaleyra accepted {relayed} during the run; nothing stored"
    return Row("naive: Flask + requests.post", load, relayed / load.seconds, note)


# --- report -----------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured load per setup")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--upstream-ms", type=float, default=50.0)
    parser.add_argument("--worker-threads", type=int, default=8)
    parser.add_argument("--redis-db", type=int, default=12)
    parser.add_argument("--load", choices=("wrk", "python"), default=None)
    parser.add_argument(
        "--keep-alive",
        action="store_true",
        help="reuse connections (gunicorn's 2 processes then split them unevenly, run to run)",
    )
    args = parser.parse_args()
    args.load = args.load or ("wrk" if shutil.which("wrk") else "python")

    command = [os.path.relpath(sys.executable, ROOT), "-m", "benchmarks.durable", *sys.argv[1:]]
    generator = "wrk -t2" if args.load == "wrk" else "pure-Python asyncio (SLOWER than wrk)"
    ceiling = args.worker_threads / (args.upstream_ms / 1000)
    print(f"$ {shlex.join(command)}")
    print(
        f"load: {generator}, {args.connections} concurrent clients, "
        f"{'keep-alive' if args.keep_alive else 'a new connection per request'}, "
        f"{args.warmup:g} s warm-up + {args.seconds:g} s measured, distinct offers; "
        f"{os.cpu_count()} cores shared by all\n"
        f"Kaleyra: loopback, answers after {args.upstream_ms:g} ms, KALEYRA_RATE_LIMIT=0; "
        f"gunicorn 2 workers x 8 gthreads for serve and naive; delivery worker "
        f"{args.worker_threads} threads (ceiling {ceiling:.0f} msg/s)"
    )
    began = time.monotonic()
    kaleyra = FakeKaleyra(delay=args.upstream_ms / 1000).start()
    common = {
        "CONNECTOR_LOG_LEVEL": "WARNING",
        "KALEYRA_RATE_LIMIT": "0",
        "CONNECTOR_WORKER_THREADS": str(args.worker_threads),
    }
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        embedded, scaled = Path(tmp, "embedded"), Path(tmp, "scaled")
        embedded.mkdir()
        scaled.mkdir()
        env = kaleyra_env(kaleyra, f"sqlite:///{embedded}/events.db") | common
        with serve(env, embedded, workers=2, extra=("--threads", "8")) as served:
            rows.append(connector_row("embedded: SQLite+SQLite", served.base_url, kaleyra, args))
        with postgres_database() as db_url, redis_queue(args.redis_db) as queue_url:
            env = kaleyra_env(kaleyra, db_url) | common | {"CONNECTOR_QUEUE_URL": queue_url}
            extra = ("--threads", "8", "--no-embedded-worker")
            with serve(env, scaled, workers=2, extra=extra) as served:
                with worker(env, scaled, threads=args.worker_threads):
                    base = served.base_url
                    rows.append(connector_row("scaled: PostgreSQL+Redis", base, kaleyra, args))
        with naive_server(kaleyra, Path(tmp, "naive.log")) as base_url:
            rows.append(naive_row(base_url, kaleyra, args))
    kaleyra.stop()

    head = f"{'setup':<29}{'acks/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'failed':>8}{'deliv/s':>9}"
    print(f"\n{head}  note")
    for row in rows:
        load = row.load
        print(
            f"{row.setup:<29}{load.rate:>9.1f}{load.p50_ms:>9.1f}{load.p99_ms:>9.1f}"
            f"{load.failed:>8}{row.delivered_per_s:>9.1f}  {row.note}"
        )
    naive = rows[-1].load
    for row in rows[:-1]:
        print(
            f"{row.setup.split(':')[0]} ÷ naive: acks/s {row.load.rate / naive.rate:.2f}x, "
            f"p99 {row.load.p99_ms / naive.p99_ms:.2f}x"
        )
    print("(ack: connector = 202 once stored and queued; naive = 202 once Kaleyra answered)")
    print(f"wall time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
