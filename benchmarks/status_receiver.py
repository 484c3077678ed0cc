"""A platform's status endpoint for the status-loop benchmark (aiohttp: never the bottleneck):
records when each notification arrived, by its ``webhook-id``, and answers 200."""

from __future__ import annotations

import argparse
import time

from aiohttp import web


def make_app() -> web.Application:
    arrivals: list[tuple[str, float]] = []

    async def status(request: web.Request) -> web.Response:
        await request.read()
        arrivals.append((request.headers.get("webhook-id", ""), time.time()))
        return web.json_response({"ok": True})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({"received": len(arrivals)})

    async def received(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    app = web.Application()
    app.router.add_post("/status", status)
    app.router.add_get("/stats", stats)
    app.router.add_get("/received", received)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    web.run_app(make_app(), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
