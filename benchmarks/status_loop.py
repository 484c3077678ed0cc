"""The status loop under load: Kaleyra's callbacks in, each platform told, measured.

One command (``python -m benchmarks.status_loop``) starts everything: the fast loopback Kaleyra
(aiohttp, 50 ms), a platform's status receiver (aiohttp, records each arrival by
``webhook-id``), and ``lto-connector serve`` with its defaults (SQLite, the commit process, the
embedded worker with its notifier) and a Standard Webhooks destination. It sends ``--messages``
offers (async), waits until Kaleyra accepted them all, then plays Kaleyra: three callbacks per
message (sent as a GET of the profile's template, delivered as the v2 envelope, read as a POST
of the template), paced at ``--rate`` callbacks per second (default: three per message at the
campaign's measured delivery rate), then once more flat out with fresh messages. It prints the
intake (callbacks/s, answer p50/p99, errors), and for the platform: notifications received
against expected, repeats, and the time from each callback being sent to the platform's receipt
of its notification (p50, p99, max).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import requests

from benchmarks.campaign import API_KEY, connector_env, serve, upstream
from benchmarks.procs import PYTHON, descendants, free_port, started, wait_until
from benchmarks.profiles import Profiler

TOKEN = "bench-callback-token-5e2d7a91"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STATUSES = ("sent", "delivered", "read")


@dataclass
class Phase:
    label: str
    messages: int
    callbacks: int
    seconds: float
    errors: int
    answer_ms: list[float]
    expected: int
    received: int
    repeats: int
    lag_ms: list[float]

    def row(self) -> str:
        def pct(values: list[float], q: float) -> str:
            if not values:
                return "-"
            ordered = sorted(values)
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))]:.0f}"

        rate = self.callbacks / self.seconds if self.seconds else 0.0
        return (
            f"| {self.label} | {self.messages} | {self.callbacks} | {rate:.0f} | "
            f"{pct(self.answer_ms, 0.5)} / {pct(self.answer_ms, 0.99)} | {self.errors} | "
            f"{self.received}/{self.expected} | {self.repeats} | "
            f"{pct(self.lag_ms, 0.5)} / {pct(self.lag_ms, 0.99)} / "
            f"{(max(self.lag_ms) if self.lag_ms else 0):.0f} |"
        )


@contextmanager
def receiver(tmp: Path) -> Iterator[str]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [PYTHON, "-m", "benchmarks.status_receiver", "--port", str(port)]
    with started(command, tmp / "receiver.log", ready_url=base + "/stats", nice=5):
        yield base


def offers(base_url: str, count: int, label: str) -> None:
    """``count`` distinct async offers, 32 at a time."""
    expires = int(time.time() * 1000) + 3_600_000

    async def run() -> None:
        headers = {"X-Api-Key": API_KEY, "Prefer": "respond-async"}
        limit = asyncio.Semaphore(32)
        async with aiohttp.ClientSession(headers=headers) as session:

            async def one(i: int) -> None:
                body = {"to": "+919876543210", "template_name": "lto_summer",
                        "body_params": [f"{label}-{i}"], "expires_at": expires,
                        "coupon_code": "CARIBE25"}  # fmt: skip
                async with limit, session.post(f"{base_url}/v1/messages", json=body) as answer:
                    assert answer.status == 202, await answer.text()

            await asyncio.gather(*(one(i) for i in range(count)))

    asyncio.run(run())


def callback(message_id: str, ref: str, status: str) -> tuple[str, dict[str, Any]]:
    """(method, request kwargs) as Kaleyra's profile sends it, the shape varying by status."""
    stamp = str(int(time.time()))
    template = {"id": f"{message_id}:0", "status": status, "timestamp": stamp, "ref": ref,
                "mobile": "919876543210", "error": "", "error_code": ""}  # fmt: skip
    if status == "sent":
        return "GET", {"params": template}
    if status == "delivered":
        envelope = {
            "meta_object": {"value": {"messaging_product": "whatsapp", "statuses": [
                {"id": f"wamid.{message_id}", "status": status, "timestamp": stamp,
                 "recipient_id": "919876543210"}]}, "field": "messages"},
            "extra_info": {"message_id": message_id, "ref": ref},
            "status": status, "message_id": f"wamid.{message_id}",
        }  # fmt: skip
        return "POST", {"json": envelope}
    return "POST", {"json": template}


def play_callbacks(
    url: str, sent: list[tuple[str, str]], rate: float | None, concurrency: int
) -> tuple[float, int, list[float], dict[str, float]]:
    """Every message's three callbacks, each sent after the one before it was answered (as
    Kaleyra reports: in order, apart in time), ``concurrency`` at a time, started at ``rate``
    callbacks per second overall (None: as fast as they are answered). (seconds, errors,
    answer ms, send time by the notification's webhook-id)."""
    sent_at: dict[str, float] = {}
    answers: list[float] = []
    errors = 0

    async def run() -> float:
        nonlocal errors
        limit = asyncio.Semaphore(concurrency)
        connector = aiohttp.TCPConnector(limit=concurrency)
        timeout = aiohttp.ClientTimeout(total=30)
        slot = 0
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            start = time.monotonic()

            async def one(message_id: str, ref: str, status: str) -> None:
                nonlocal errors, slot
                if rate:
                    slot += 1
                    await asyncio.sleep(max(0.0, start + slot / rate - time.monotonic()))
                method, kwargs = callback(message_id, ref, status)
                async with limit:
                    sent_at[f"msg_{ref}_{status}"] = time.time()
                    began = time.monotonic()
                    try:
                        async with session.request(method, url, **kwargs) as answer:
                            await answer.read()
                            if answer.status != 200:
                                errors += 1
                    except (TimeoutError, aiohttp.ClientError):
                        errors += 1
                    answers.append((time.monotonic() - began) * 1000)

            async def chain(message_id: str, ref: str) -> None:
                for status in STATUSES:
                    await one(message_id, ref, status)

            await asyncio.gather(*(chain(m, r) for m, r in sent))
            return time.monotonic() - start

    seconds = asyncio.run(run())
    return seconds, errors, answers, sent_at


def phase(label: str, base: str, kaleyra: Any, receiver_url: str, messages: int,
          rate: float | None, concurrency: int, profiler: Profiler | None = None,
          pids: list[int] | None = None) -> Phase:  # fmt: skip
    before = {tuple(x) for x in requests.get(kaleyra.base + "/sent", timeout=30).json()}
    offers(base, messages, label)
    wait_until(lambda: len(requests.get(kaleyra.base + "/sent", timeout=30).json())
               >= len(before) + messages, timeout=120)  # fmt: skip
    sent = [(m, r) for m, r in (tuple(x) for x in requests.get(kaleyra.base + "/sent",
            timeout=30).json()) if (m, r) not in before and r]  # fmt: skip
    already = len(requests.get(receiver_url + "/received", timeout=30).json())
    url = f"{base}/callbacks/kaleyra/default/{TOKEN}"
    if profiler is not None and pids:
        with profiler.record(label.replace(" ", "-").replace("/", ""), pids, 5):
            seconds, errors, answers, sent_at = play_callbacks(url, sent, rate, concurrency)
    else:
        seconds, errors, answers, sent_at = play_callbacks(url, sent, rate, concurrency)
    expected = len(sent_at)

    def arrived() -> bool:
        got = requests.get(receiver_url + "/stats", timeout=30).json()["received"]
        return bool(got - already >= expected)

    try:
        wait_until(arrived, timeout=120, every=0.2)
    except AssertionError:  # reported as received/expected below
        pass
    arrivals = requests.get(receiver_url + "/received", timeout=30).json()[already:]
    first: dict[str, float] = {}
    for webhook_id, at in arrivals:
        first.setdefault(webhook_id, at)
    lag = [(first[k] - t) * 1000 for k, t in sent_at.items() if k in first]
    return Phase(label, len(sent), expected, seconds, errors, answers, expected,
                 len(first.keys() & sent_at.keys()), len(arrivals) - len(first), lag)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--rate",
        type=float,
        default=3 * 770.0,
        help="callbacks per second (3 per message at the delivery rate reached)",
    )
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--profile", type=Path, help="py-spy the flat-out phase into this folder")
    args = parser.parse_args()
    profiler = Profiler(args.profile)
    with tempfile.TemporaryDirectory(prefix="lto-status-") as folder:
        tmp = Path(folder)
        with upstream(tmp, 50, 0) as kaleyra, receiver(tmp) as receiver_url:
            env = connector_env(
                kaleyra, f"sqlite:///{tmp}/events.db", 1000,
                CONNECTOR_CALLBACK_TOKEN=TOKEN, STATUS_WEBHOOK_URL=receiver_url + "/status",
                STATUS_WEBHOOK_SECRET=SECRET,
            )  # fmt: skip
            with serve(env, tmp) as (base, pid):
                rows = [
                    phase(f"paced {args.rate:.0f}/s", base, kaleyra, receiver_url,
                          args.messages, args.rate, args.concurrency),
                    phase("flat out", base, kaleyra, receiver_url, args.messages, None,
                          args.concurrency, profiler, [pid, *descendants(pid)]),
                ]  # fmt: skip
            if any(row.received < row.expected for row in rows):
                print("".join((tmp / "serve.log").read_text().splitlines(True)[-40:]))
    print(f"\nstatus loop: lto-connector serve defaults (SQLite), {args.concurrency} callback "
          f"connections, 3 callbacks per message, Standard Webhooks receiver")  # fmt: skip
    print(
        "| phase | messages | callbacks | intake/s | answer p50 / p99 ms | errors | "
        "platform got | repeats | callback→platform p50 / p99 / max ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(row.row())
    print(f"(median answer {statistics.median(rows[0].answer_ms):.1f} ms paced)")
    profiler.summarise()


if __name__ == "__main__":
    main()
