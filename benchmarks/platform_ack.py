"""Acknowledgement latency of every platform route through `lto-connector serve` (gunicorn).

    .venv/bin/python -m benchmarks.platform_ack [--requests 1000] [--concurrency 200]
        [--workers 2] [--platforms api,clevertap,...] [--upstream-ms 50]

Each platform calls the way it really does (tests/platform_cases.py: its documented payload,
signed or authenticated as it would be) against one connector whose connections file holds tenant
``acme`` with every identity. Every request is a NEW delivery: the platform's delivery id (or, for
routes without one, a field the offer's content includes) is unique per request, re-signed where
the platform signs, so the connector stores each one instead of answering a repeat from the store;
the store's event count (GET /metrics) is checked against the requests sent.

Per platform, once the previous platform's backlog is delivered: 20 warm-up requests, then
--requests from --concurrency threads (one requests.Session each), timed from send to answer.
p50/p99 and req/s are over the answers that pass the platform's own success check. "ack" says
what the answer waits for: "stored" routes store and queue (the embedded worker delivers later);
"Kaleyra" routes answer after the loopback Kaleyra (which replies after --upstream-ms) has
accepted the message. The clients, gunicorn and its delivery worker all share this machine's
cores. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import requests

from connector.platforms import PLATFORMS
from tests.kaleyra_fake import API_KEY, FakeKaleyra
from tests.platform_cases import SHOPIFY_SECRET, Call, Case, cases, connections_yaml, shopify_sign
from tests.served import serve

ROOT = Path(__file__).resolve().parent.parent
HUBSPOT_SECRET = "bench-hubspot-client-secret-7d41"
WARMUP = 20
DRAIN_TIMEOUT_S = 120
ALWAYS_ASYNC = {cls.name: cls.always_async for cls in PLATFORMS}

Mutate = Callable[[Call, str], None]  # make ``call`` a new delivery, unique by ``token``


# --- making every request a new delivery ------------------------------------------------------
def json_field(*path: str | int) -> Mutate:
    """Set the JSON body's value at ``path`` (keys and list indexes) to the token."""

    def mutate(call: Call, token: str) -> None:
        data = json.loads(call.body)
        node = data
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = token
        call.body = json.dumps(data).encode()

    return mutate


def form_field(name: str) -> Mutate:
    """Set the form body's field ``name`` to the token."""

    def mutate(call: Call, token: str) -> None:
        fields = dict(parse_qsl(call.body.decode(), keep_blank_values=True))
        call.body = urlencode({**fields, name: token}).encode()  # replaced, or added

    return mutate


def header(name: str) -> Mutate:
    def mutate(call: Call, token: str) -> None:
        call.headers[name] = token

    return mutate


def query(name: str) -> Mutate:
    def mutate(call: Call, token: str) -> None:
        call.query = {**call.query, name: token}

    return mutate


def salesforce_ids(call: Call, token: str) -> None:
    """Each <Notification>'s <Id> (Salesforce's delivery id, one per notification)."""
    ids = iter(range(1000))
    call.body = re.sub(
        rb"<Id>([^<]+)</Id>",
        lambda m: b"<Id>%s-%s-%d</Id>" % (m[1], token.encode(), next(ids)),
        call.body,
    )


# what varies per request: the platform's delivery id, else a field of the offer's content
UNIQUE: dict[str, Mutate] = {
    "api": json_field("ref"),  # no delivery id: deduped by content, ref is content
    "zapier": form_field("ref"),  # the same, as a form
    "hubspot_action": json_field("callbackId"),  # Call.send signs v3 over the new body
    "hubspot_webhook": query("ref"),  # offer fields ride in the (signed) URL query
    "clevertap": json_field("msgId"),
    "clevertap_webhook": json_field("targetId"),  # targetId + each profile's objectId
    "webengage": json_field("metadata", "messageId"),
    "shopify": header("X-Shopify-Webhook-Id"),
    "shopify_flow": json_field("action_run_id"),
    "salesforce": salesforce_ids,
    "leadsquared": query("ref"),  # no delivery id: deduped by lead + offer content
    # mapped platforms: the source of the mapping's dedupe_key
    "braze": json_field("user", "external_id"),
    "zoho": form_field("Lead_Id"),
    "moengage": json_field("customer_id"),
    "eloqua": json_field("items", 0, "ContactID"),
    "responsys": json_field("dataSet", "rows", 0, 0),
}


def unique_call(case: Case, token: str) -> Call:
    call = case.valid()
    UNIQUE[case.platform](call, token)
    if "X-Shopify-Hmac-Sha256" in call.headers:  # signed over the body: sign the new one
        call.headers["X-Shopify-Hmac-Sha256"] = shopify_sign(call.body)
    return call


# --- load -------------------------------------------------------------------------------------
@dataclass
class Outcome:
    seconds: float
    status: int | None  # None: no answer (timeout, socket error)
    accepted: bool  # passed the platform's own success check
    answer_id: str | None
    detail: str


@dataclass
class Run:
    platform: str
    outcomes: list[Outcome]
    wall: float
    stored: int  # events the store gained during the measured requests
    waited: float  # seconds spent waiting for the previous platform's backlog to be delivered
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> int:
        return sum(o.status is not None and 200 <= o.status < 300 for o in self.outcomes)

    @property
    def latencies(self) -> list[float]:
        return sorted(o.seconds for o in self.outcomes if o.accepted)

    def pct(self, p: float) -> float | None:
        values = self.latencies
        return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else None


def answer_id(response: requests.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    found = body.get("id") or (body.get("outputFields") or {}).get("event_id")
    return str(found) if found else None


def send_all(
    pool: ThreadPoolExecutor, base_url: str, case: Case, calls: list[Call]
) -> list[Outcome]:
    local = threading.local()

    def one(call: Call) -> Outcome:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        try:
            response = call.send(base_url, session)
        except requests.RequestException as error:
            return Outcome(time.perf_counter() - started, None, False, None, repr(error)[:300])
        elapsed = time.perf_counter() - started
        try:
            case.accepted(response)
            accepted, detail = True, ""
        except (AssertionError, ValueError, KeyError, TypeError):
            accepted, detail = False, response.text[:300]
        return Outcome(elapsed, response.status_code, accepted, answer_id(response), detail)

    return list(pool.map(one, calls))


def stored_events(base_url: str) -> int:
    page = requests.get(base_url + "/metrics", timeout=30).text
    match = re.search(r"^lto_events_received_total (\S+)$", page, re.M)
    if match is None:
        raise RuntimeError(f"no lto_events_received_total in /metrics:\n{page[:500]}")
    return int(float(match[1]))


def in_flight(base_url: str) -> int:
    """Events not yet settled (queued, leased or sending), from GET /metrics."""
    page = requests.get(base_url + "/metrics", timeout=30).text
    pattern = r'^lto_events\{status="(?:queued|leased|sending)"\} (\S+)$'
    return int(sum(float(value) for value in re.findall(pattern, page, re.M)))


def wait_idle(base_url: str, timeout: float = DRAIN_TIMEOUT_S) -> int:
    """Until the embedded worker has delivered the previous platform's backlog: what is left."""
    deadline = time.monotonic() + timeout
    while (left := in_flight(base_url)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def run_platform(base_url: str, case: Case, args: argparse.Namespace) -> Run:
    calls = [unique_call(case, f"bench{i:07d}") for i in range(WARMUP + args.requests)]
    waited = time.monotonic()
    left = wait_idle(base_url)  # each platform starts from an idle connector
    waited = time.monotonic() - waited
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        send_all(pool, base_url, case, calls[:WARMUP])
        before = stored_events(base_url)
        started = time.perf_counter()
        outcomes = send_all(pool, base_url, case, calls[WARMUP:])
        wall = time.perf_counter() - started
    run = Run(case.platform, outcomes, wall, stored_events(base_url) - before, waited)

    if left:
        run.notes.append(
            f"NOTE {case.platform}: started with {left} earlier events still being delivered "
            f"(not drained within {DRAIN_TIMEOUT_S} s)"
        )
    expected = args.requests * case.sends
    if run.stored != expected:
        run.notes.append(
            f"WARNING {case.platform}: the store gained {run.stored} events for {args.requests} "
            f"requests (expected {expected}): not every request was a new delivery"
        )
    ids = [o.answer_id for o in outcomes if o.accepted and o.answer_id]
    if ids and len(set(ids)) != len(ids):
        run.notes.append(
            f"WARNING {case.platform}: {len(set(ids))} distinct ids in {len(ids)} accepted "
            "answers: some were answered from the store"
        )
    errors = Counter((o.status, o.detail) for o in outcomes if not o.accepted)
    for (status, detail), count in errors.most_common(3):
        run.notes.append(f"ERROR {case.platform}: {count} x {status or 'no answer'}: {detail}")
    if len(errors) > 3:
        run.notes.append(f"ERROR {case.platform}: and {len(errors) - 3} other distinct answers")
    return run


# --- report -----------------------------------------------------------------------------------
def connector_env(kaleyra: FakeKaleyra, tmp: Path) -> dict[str, str]:
    connections = tmp / "connections.yaml"
    connections.write_text(connections_yaml(kaleyra.base_url, HUBSPOT_SECRET))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALEYRA_", "CONNECTOR_"))}
    env.update(
        TEST_ACME_KALEYRA_KEY=API_KEY,
        TEST_SHOPIFY_SECRET=SHOPIFY_SECRET,
        HUBSPOT_CLIENT_SECRET=HUBSPOT_SECRET,
        CONNECTOR_CONNECTIONS=str(connections),
        CONNECTOR_DATABASE_URL=f"sqlite:///{tmp}/events.db",
        CONNECTOR_LOG_LEVEL="WARNING",
    )
    return env


def fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="measured, per platform")
    parser.add_argument("--concurrency", type=int, default=200, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--platforms", default="", help="comma list (default: all)")
    parser.add_argument("--upstream-ms", type=float, default=50.0, help="loopback Kaleyra delay")
    args = parser.parse_args()

    selected = cases(HUBSPOT_SECRET)
    if args.platforms:
        wanted = {p.strip() for p in args.platforms.split(",") if p.strip()}
        unknown = wanted - {c.platform for c in selected}
        if unknown:
            parser.error(f"unknown platforms: {', '.join(sorted(unknown))}")
        selected = [c for c in selected if c.platform in wanted]

    command = [os.path.relpath(sys.executable, ROOT), "-m", "benchmarks.platform_ack"]
    print(f"$ {shlex.join([*command, *sys.argv[1:]])}")
    print(
        f"lto-connector serve: gunicorn {args.workers} workers x 8 gthreads + embedded delivery "
        f"worker, SQLite store; loopback Kaleyra answers after {args.upstream_ms:g} ms, rate 0\n"
        f"load: {args.concurrency} concurrent clients (threads, keep-alive sessions), "
        f"{WARMUP} warm-up + {args.requests} measured requests per platform, each a new delivery; "
        f"{os.cpu_count()} cores shared by all"
    )
    began = time.monotonic()
    kaleyra = FakeKaleyra(delay=args.upstream_ms / 1000).start()
    runs: list[Run] = []
    log_tail = ""
    try:
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            env = connector_env(kaleyra, tmp)
            with serve(env, tmp, workers=args.workers) as served:
                for case in selected:
                    runs.append(run_platform(served.base_url, case, args))
                    row = runs[-1]
                    print(
                        f"  {row.platform}: {row.ok}/{args.requests} 2xx "
                        f"(after {row.waited:.1f} s draining the previous backlog)",
                        flush=True,
                    )
                if any(o.status is None or not o.accepted for r in runs for o in r.outcomes):
                    log_tail = "\n".join(served.logs().splitlines()[-20:])
    finally:
        kaleyra.stop()

    head = (
        f"{'platform':<17}{'ack':>8}{'requests':>10}{'ok':>7}{'accepted':>10}{'stored':>8}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'req/s':>8}"
    )
    print(f"\n{head}")
    for run in runs:
        ack = "stored" if ALWAYS_ASYNC.get(run.platform, False) else "Kaleyra"
        accepted = len(run.latencies)
        print(
            f"{run.platform:<17}{ack:>8}{len(run.outcomes):>10}{run.ok:>7}{accepted:>10}"
            f"{run.stored:>8}{fmt(run.pct(0.50)):>9}{fmt(run.pct(0.99)):>9}"
            f"{accepted / run.wall:>8.1f}"
        )
    notes = [note for run in runs for note in run.notes]
    if notes:
        print()
        print("\n".join(notes))
    if log_tail:
        print(f"\nlast lines of the server log:\n{log_tail}")
    print(
        "(ok: 2xx answers; accepted: answers passing the platform's success check, which "
        "p50/p99 and req/s count; stored: events the store gained; salesforce and "
        "clevertap_webhook calls carry 2 each)"
    )
    print(f"wall time {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    main()
