"""What one request costs in CPU inside the web process, beside the ceiling and the naive relay.

    .venv/bin/python -m benchmarks.request_cost [--requests 3000] [--sync-requests 600]

The campaign benchmark measures requests per second through gunicorn with everything sharing two
cores; this one says where a request's own CPU goes, with no server, load generator or delivery
worker competing, on the calling thread ("thread") and in the whole process ("process": the
connector's group-commit thread included; one call at a time makes every commit a group of one,
its dearest case; the loopback Kaleyra, answering at once, runs in its own process): the ceiling
app (Flask parsing the JSON and answering 202), the connector's authentication and marshmallow
parsing alone, the connector's whole async request (its durable claim included), and a sync call
through the naive relay (one fresh ``requests.post``) and through the connector (claim, send,
settle). What the connector's request costs beyond the ceiling's is what no server setting can
win back.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, request
from werkzeug.test import EnvironBuilder

from benchmarks import fast_kaleyra, load
from benchmarks.campaign import (
    API_KEY,
    ASYNC_HEADERS,
    CLEVERTAP_HEADERS,
    SYNC_HEADERS,
    clevertap_body,
    offer_body,
    upstream,
)
from benchmarks.ceiling_app import app as ceiling
from connector import create_app
from connector.config import Settings
from connector.platforms.clevertap import CleverTapPlatform

Environ = dict[str, Any]


def environs(path: str, body: str, headers: dict[str, str], count: int) -> list[Environ]:
    """``count`` WSGI requests, each a distinct offer, built before the clock starts."""
    return [
        EnvironBuilder(
            path=path,
            method="POST",
            data=body.replace(load.TOKEN, uuid.uuid4().hex),
            headers=list(headers.items()),
        ).get_environ()
        for _ in range(count)
    ]


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


def call(app: Flask, environ: Environ) -> None:
    b"".join(app(environ, start_response))


def cpu_ms(work: Callable[[Environ], None], requests: list[Environ]) -> tuple[float, float]:
    """CPU ms per request (on the calling thread; in the whole process, its group committer's
    thread included), after a warm-up of a tenth of them."""
    warm = len(requests) // 10
    for environ in requests[:warm]:
        work(environ)
    thread, process = time.thread_time(), time.process_time()
    for environ in requests[warm:]:
        work(environ)
    count = len(requests) - warm
    return (
        (time.thread_time() - thread) * 1000 / count,
        (time.process_time() - process) * 1000 / count,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="the median of interleaved rounds")
    parser.add_argument("--sync-requests", type=int, default=600)
    args = parser.parse_args()
    n = args.requests
    expires = int(time.time() * 1000) + 86_400_000
    with tempfile.TemporaryDirectory() as folder, upstream(Path(folder), 0.0, 1e6) as kaleyra:
        # the naive relay reads its upstream when imported
        os.environ["NAIVE_UPSTREAM_URL"] = (
            f"{kaleyra.send_url}/whatsapp/{fast_kaleyra.SENDER}/messages"
        )
        os.environ["NAIVE_API_KEY"] = fast_kaleyra.API_KEY
        from benchmarks.naive_app import app as naive

        settings = Settings(
            database_url=f"sqlite:///{folder}/events.db",
            api_keys=(API_KEY,),
            default_region="IN",
            log_level="WARNING",
            kaleyra_sid=fast_kaleyra.SID,
            kaleyra_api_key=fast_kaleyra.API_KEY,
            kaleyra_sender=fast_kaleyra.SENDER,
            kaleyra_base_url=kaleyra.send_url,
        )
        app = create_app(settings)
        clevertap = CleverTapPlatform(app.extensions["lto"])

        def parse_only(environ: Environ) -> None:
            with app.request_context(environ):
                clevertap.parse(request, clevertap.authenticate(request))

        offers = offer_body(expires)
        clevertaps = ("/hooks/clevertap", clevertap_body(expires), CLEVERTAP_HEADERS)
        sync = ("/v1/messages", offers, SYNC_HEADERS)
        rows: list[tuple[str, Callable[[Environ], None], tuple[str, str, dict[str, str]], int]] = [
            ("ceiling app: parse JSON, 202", lambda e: call(ceiling, e),
             ("/v1/messages", offers, ASYNC_HEADERS), n),
            ("/hooks/clevertap: auth + parse only", parse_only, clevertaps, n),
            ("/hooks/clevertap: whole request", lambda e: call(app, e), clevertaps, n),
            ("/v1/messages async: whole request", lambda e: call(app, e),
             ("/v1/messages", offers, ASYNC_HEADERS), n),
            ("naive relay: requests.post, sync", lambda e: call(naive, e), sync,
             args.sync_requests),
            ("/v1/messages sync: whole request", lambda e: call(app, e), sync,
             args.sync_requests),
        ]  # fmt: skip
        print(f"$ python -m benchmarks.request_cost --requests {n} --rounds {args.rounds}")
        costs: list[list[tuple[float, float]]] = [[] for _ in rows]
        for _ in range(args.rounds):  # interleaved: a noisy moment touches every row alike
            for cost, (_label, work, request_of, count) in zip(costs, rows, strict=True):
                cost.append(cpu_ms(work, environs(*request_of, count)))
        print(f"{'median of rounds, CPU ms per request':<40}{'thread':>8}{'x ceil':>8}"
              f"{'process':>9}{'x ceil':>8}")  # fmt: skip
        base = [statistics.median(c[i] for c in costs[0]) for i in (0, 1)]
        for cost, (label, *_) in zip(costs, rows, strict=True):
            thread, process = (statistics.median(c[i] for c in cost) for i in (0, 1))
            print(f"{label:<40}{thread:>8.3f}{thread / base[0]:>7.1f}x"
                  f"{process:>9.3f}{process / base[1]:>7.1f}x")  # fmt: skip
        app.extensions["lto"].store.dispose()


if __name__ == "__main__":
    main()
