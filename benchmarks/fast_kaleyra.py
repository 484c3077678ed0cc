"""A loopback Kaleyra fast enough not to be the bottleneck of a campaign benchmark (aiohttp).

    python -m benchmarks.fast_kaleyra --port 9000 [--delay-ms 50] [--rate 1000]

It answers ``POST /v2/{sid}/whatsapp/{sender}/messages`` after ``--delay-ms`` with the API page's
202 ``WA202`` body, or 429 when the account's rate is exceeded (a token bucket refilled at
``--rate`` per second holding one second of burst, as a throttling API would): the connector must
never cause one. Each accepted request is counted by its offer (``extra_info.ref``, else the body
variables), so the benchmark can check sent-once: accepted requests == distinct offers.

``GET /stats`` → counts; ``GET /times`` → arrival times (epoch s) of accepted requests;
``POST /reset`` clears both. It stands in for a remote service, so the benchmark runs it at a
lower CPU priority than the processes under test.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time

from aiohttp import web

API_KEY = "A0bench0000000000000000000000003"
SID = "HXBENCH0000000IN"
SENDER = "+919900112233"


ACCEPTED = b'{"code":"WA202","message":"Request Accepted","data":{"message_id":"%s"},"error":{}}'


class Upstream:
    def __init__(self, delay_s: float, rate: float) -> None:
        self.delay_s = delay_s
        self.rate = rate
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.throttled = 0
        self.refused = 0
        self.times: list[float] = []
        self.offers: set[bytes] = set()
        self.issued = 0
        self.sent: list[tuple[str, str | None]] = []  # (message id, the connector's event ref)
        self.tokens = self.rate
        self.refilled = time.monotonic()

    def take(self) -> bool:
        if self.rate <= 0:
            return True
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


# the connector sends compact JSON: the offer's key is read without parsing the whole body; a
# ref holding the connector's own event id (written into a free ref slot) is not the offer's
REF = re.compile(rb'"ref":"(?!evt_)((?:[^"\\]|\\.)*)"')
FIRST_BODY_TEXT = re.compile(
    rb'"type":"body","parameters":\[\{"type":"text","text":"((?:[^"\\]|\\.)*)"'
)


EVENT_REF = re.compile(rb'"ref[12]?":"(evt_[0-9a-f]{32})"')


def offer_key(body: bytes) -> bytes | None:
    """The offer's own ``extra_info.ref``, else its first body variable; None: not a message."""
    if b'"messaging_object"' not in body:
        return None
    found = REF.search(body) or FIRST_BODY_TEXT.search(body)
    return found.group(1) if found else body


def make_app(upstream: Upstream) -> web.Application:
    path = f"/v2/{SID}/whatsapp/{SENDER}/messages"

    async def send(request: web.Request) -> web.Response:
        upstream.requests += 1
        body = await request.read()
        if request.headers.get("api-key") != API_KEY:
            upstream.refused += 1
            return web.json_response(
                {"code": "RBC001", "message": "Incorrect SID or API key."}, status=401
            )
        key = offer_key(body)
        if key is None:
            upstream.refused += 1
            refusal = {"code": "WA400", "message": "Refer to correct payload format"}
            return web.json_response(refusal, status=400)
        if not upstream.take():
            upstream.throttled += 1
            return web.json_response(
                {"message": "Too many requests"}, status=429, headers={"Retry-After": "1"}
            )
        upstream.times.append(time.time())
        upstream.offers.add(key)
        await asyncio.sleep(upstream.delay_s)
        upstream.issued += 1
        message_id = f"A{upstream.issued:019d}"
        found = EVENT_REF.search(body)
        upstream.sent.append((message_id, found.group(1).decode() if found else None))
        answer = ACCEPTED % message_id.encode()
        return web.Response(body=answer, status=202, content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        accepted = len(upstream.times)
        return web.json_response(
            {
                "requests": upstream.requests,
                "accepted": accepted,
                "distinct": len(upstream.offers),
                "duplicates": accepted - len(upstream.offers),
                "throttled": upstream.throttled,
                "refused": upstream.refused,
            }
        )

    async def times(request: web.Request) -> web.Response:
        return web.json_response(upstream.times)

    async def sent(request: web.Request) -> web.Response:
        """What was accepted: [message id, the connector's event id in a ref] per message (the
        status-loop benchmark sends Kaleyra's callbacks for them)."""
        return web.json_response(upstream.sent)

    async def reset(request: web.Request) -> web.Response:
        upstream.reset()
        return web.json_response({"reset": True})

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(path, send)
    app.router.add_get("/stats", stats)
    app.router.add_get("/times", times)
    app.router.add_get("/sent", sent)
    app.router.add_post("/reset", reset)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--rate", type=float, default=0.0, help="429 above this per second")
    args = parser.parse_args()
    upstream = Upstream(args.delay_ms / 1000, args.rate)
    try:
        import uvloop  # a faster event loop, when installed

        uvloop.install()
    except ImportError:
        pass
    web.run_app(
        make_app(upstream),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
        backlog=4096,
    )


if __name__ == "__main__":
    main()
