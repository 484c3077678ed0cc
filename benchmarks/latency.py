"""Latency of POST /v1/messages through `lto-connector serve` to a loopback Kaleyra.

    .venv/bin/python -m benchmarks.latency [--requests 2000] [--clients 16] [--upstream-ms 20]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/DB]

Every request is a distinct offer (own idempotency key), so each one is stored and relayed.
Prints median, p90, p99 and throughput, and the same for the floor: the same clients posting
Kaleyra's payload straight to the loopback Kaleyra (what the load generator and the stand-in cost
on this machine). Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from connector.kaleyra import build_request
from connector.offer import OfferDefaults, OfferSchema
from tests.kaleyra_fake import API_KEY, SENDER, FakeKaleyra
from tests.offers import offer
from tests.served import CONNECTOR_KEY, kaleyra_env, serve


def measure(
    url: str, body: Callable[[int], dict[str, Any]], headers: dict[str, str], args: Any
) -> tuple[list[float], float]:
    """(sorted latencies in seconds, wall seconds) for args.requests posts from args.clients."""
    local = threading.local()

    def post(i: int) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = session.post(url, json=body(i), headers=headers, timeout=30)
        elapsed = time.perf_counter() - started
        if response.status_code not in (200, 202):
            raise RuntimeError(f"{response.status_code}: {response.text}")
        return elapsed

    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        list(pool.map(post, range(-200, 0)))  # warm-up: connections, pools, caches
        started = time.perf_counter()
        latencies = sorted(pool.map(post, range(args.requests)))
        return latencies, time.perf_counter() - started


def report(label: str, latencies: list[float], wall: float) -> None:
    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    print(
        f"  {label:<34} median {statistics.median(latencies) * 1000:6.1f} ms   "
        f"p90 {pct(0.90):6.1f} ms   p99 {pct(0.99):6.1f} ms   {len(latencies) / wall:6.1f} req/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--upstream-ms", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url")
    parser.add_argument(
        "--rate-limit", default="0", help="KALEYRA_RATE_LIMIT (default 0: measure the connector)"
    )
    args = parser.parse_args()

    kaleyra = FakeKaleyra(delay=args.upstream_ms / 1000).start()
    store = "postgresql" if args.database_url else "sqlite"
    print(
        f"POST /v1/messages  store={store}  workers={args.workers}x8 threads  "
        f"clients={args.clients}  upstream={args.upstream_ms:g} ms  requests={args.requests}"
    )
    payload = build_request(OfferSchema(defaults=OfferDefaults(region="IN")).load(offer()), "api")
    floor = measure(
        f"{kaleyra.base_url}/whatsapp/{SENDER}/messages",
        lambda i: payload,
        {"api-key": API_KEY},
        args,
    )
    report("floor: clients -> loopback Kaleyra", *floor)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{tmp}/bench.db"
        env = kaleyra_env(kaleyra, url) | {
            "CONNECTOR_LOG_LEVEL": "WARNING",
            "KALEYRA_RATE_LIMIT": args.rate_limit,
        }
        before = len(kaleyra.sent)
        with serve(env, Path(tmp), workers=args.workers) as served:
            through = measure(
                served.base_url + "/v1/messages",
                lambda i: offer(idempotency_key=f"bench-{i}"),
                {"X-Api-Key": CONNECTOR_KEY},
                args,
            )
    kaleyra.stop()
    report("clients -> connector -> Kaleyra", *through)
    added = statistics.median(through[0]) - statistics.median(floor[0])
    print(
        f"  connector adds {added * 1000:.1f} ms at the median; "
        f"upstream sends {len(kaleyra.sent) - before - 200} (expected {args.requests})"
    )


if __name__ == "__main__":
    main()
