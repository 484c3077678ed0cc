"""What one intake request costs in CPU inside the web process, beside the stack's ceiling.

    .venv/bin/python -m benchmarks.request_cost [--requests 3000]

The campaign benchmark measures requests per second through gunicorn with everything sharing two
cores; this one says where a request's own CPU goes, on the calling thread only
(``time.thread_time``), with no server, load generator or delivery worker competing: the ceiling
app (Flask parsing the JSON and answering 202), the connector's authentication and marshmallow
parsing alone, and the connector's whole request (the durable claim included: its commit runs on
the group committer's thread, so only the request's side of it is counted). The gap between the
ceiling and the whole request is what no server setting can win back.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, request
from werkzeug.test import EnvironBuilder

from benchmarks import load
from benchmarks.campaign import (
    API_KEY,
    ASYNC_HEADERS,
    CLEVERTAP_HEADERS,
    clevertap_body,
    offer_body,
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


def cpu_ms(work: Callable[[Environ], None], requests: list[Environ]) -> float:
    """CPU ms per request on this thread, after a warm-up of a tenth of them."""
    warm = len(requests) // 10
    for environ in requests[:warm]:
        work(environ)
    started = time.thread_time()
    for environ in requests[warm:]:
        work(environ)
    return (time.thread_time() - started) * 1000 / (len(requests) - warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3, help="the median of interleaved rounds")
    args = parser.parse_args()
    n = args.requests
    expires = int(time.time() * 1000) + 86_400_000
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{folder}/events.db",
            api_keys=(API_KEY,),
            default_region="IN",
            log_level="WARNING",
        )
        app = create_app(settings)
        clevertap = CleverTapPlatform(app.extensions["lto"])

        def parse_only(environ: Environ) -> None:
            with app.request_context(environ):
                clevertap.parse(request, clevertap.authenticate(request))

        offers = offer_body(expires)
        clevertaps = ("/hooks/clevertap", clevertap_body(expires), CLEVERTAP_HEADERS)
        rows: list[tuple[str, Callable[[Environ], None], tuple[str, str, dict[str, str]]]] = [
            ("ceiling app: parse JSON, 202", lambda e: call(ceiling, e),
             ("/v1/messages", offers, ASYNC_HEADERS)),
            ("/hooks/clevertap: auth + parse only", parse_only, clevertaps),
            ("/hooks/clevertap: whole request", lambda e: call(app, e), clevertaps),
            ("/v1/messages async: whole request", lambda e: call(app, e),
             ("/v1/messages", offers, ASYNC_HEADERS)),
        ]  # fmt: skip
        print(f"$ python -m benchmarks.request_cost --requests {n} --rounds {args.rounds}")
        costs: list[list[float]] = [[] for _ in rows]
        for _ in range(args.rounds):  # interleaved: a noisy moment touches every row alike
            for cost, (_label, work, request_of) in zip(costs, rows, strict=True):
                cost.append(cpu_ms(work, environs(*request_of, n)))
        print(f"{'request (median of rounds)':<40}{'CPU ms':>8}{'x ceiling':>11}")
        base = statistics.median(costs[0])
        for cost, (label, _work, _request_of) in zip(costs, rows, strict=True):
            middle = statistics.median(cost)
            print(f"{label:<40}{middle:>8.3f}{middle / base:>10.1f}x")
        app.extensions["lto"].store.dispose()


if __name__ == "__main__":
    main()
