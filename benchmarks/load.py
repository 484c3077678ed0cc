"""Closed-loop HTTP load: ``connections`` clients posting distinct bodies for ``seconds``.

wrk when installed (``apt-get install wrk``), else a slower pure-Python asyncio client in its own
process. Each request's body is ``prefix + token + suffix`` with a token unique to the request, so
every request is a new offer (nothing is answered from the dedupe store). Clients keep their
connection alive, as platforms sending a campaign do.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

TOKEN = "@@TOKEN@@"


@dataclass(frozen=True)
class Spec:
    url: str
    headers: dict[str, str]
    body: str  # holds TOKEN wherever each request's unique token goes
    label: str  # tokens are f"{label}-{client}-{n}"
    seconds: float
    connections: int
    timeout_s: float = 30.0  # an answer later than this counts as a timeout


@dataclass(frozen=True)
class Load:
    ok: int  # 2xx answers within the timeout
    errors: int  # non-2xx answers, socket errors
    timeouts: int  # no answer within the timeout
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0


def combined(runs: list[Load]) -> Load:
    """Several runs of one load as one: counts and seconds added, percentiles averaged (each
    run's own percentiles are all that wrk reports)."""
    n = len(runs)
    return Load(
        sum(r.ok for r in runs),
        sum(r.errors for r in runs),
        sum(r.timeouts for r in runs),
        sum(r.seconds for r in runs),
        sum(r.p50_ms for r in runs) / n,
        sum(r.p99_ms for r in runs) / n,
    )


def generator() -> str:
    return "wrk" if shutil.which("wrk") else "python"


def run(spec: Spec) -> Load:
    if generator() == "wrk":
        return wrk_load(spec)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(python_load, spec).result(timeout=spec.seconds + 120)


WRK_SCRIPT = """
wrk.method = "POST"
{headers}
local parts, label, n, threads = {{{parts}}}, "{label}", 0, 0
function setup(thread) threads = threads + 1; thread:set("id", threads) end
function request()
  n = n + 1
  return wrk.format(nil, nil, nil, table.concat(parts, label .. "-" .. id .. "-" .. n))
end
function done(s, latency)
  local e = s.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\\n", s.requests - e.status - e.timeout,
    e.status + e.connect + e.read + e.write, e.timeout, s.duration,
    latency:percentile(50), latency:percentile(99)))
end
"""


def wrk_load(spec: Spec) -> Load:
    parts = ", ".join(f"[==[{part}]==]" for part in spec.body.split(TOKEN))
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in spec.headers.items())
    lua = WRK_SCRIPT.format(headers=headers, parts=parts, label=spec.label)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua)
        script.flush()
        command = [
            "wrk",
            "-t2",
            f"-c{spec.connections}",
            f"-d{spec.seconds:g}s",
            "--timeout",
            f"{spec.timeout_s:g}s",
            "-s",
            script.name,
            spec.url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=spec.seconds + 90)
    found = re.search(r"^RESULT (.+)$", done.stdout, re.M)
    if found is None:
        raise RuntimeError(f"wrk failed: {done.stdout}\n{done.stderr}")
    ok, errors, timeouts, micros, p50, p99 = map(int, found[1].split())
    return Load(ok, errors, timeouts, micros / 1e6, p50 / 1000, p99 / 1000)


def python_load(spec: Spec) -> Load:
    """The same closed loop with asyncio streams (slower than wrk: it needs a core of its own)."""
    return asyncio.run(_python_load(spec))


async def _python_load(spec: Spec) -> Load:
    parts = urlsplit(spec.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in spec.headers.items())
    pieces = spec.body.split(TOKEN)
    latencies: list[float] = []
    errors = timeouts = 0
    started = time.perf_counter()
    deadline = started + spec.seconds

    async def client(c: int) -> None:
        nonlocal errors, timeouts
        reader = writer = None
        n = 0
        while time.perf_counter() < deadline:
            n += 1
            body = f"{spec.label}-{c}-{n}".join(pieces).encode()
            sent = time.perf_counter()
            status = 0
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(host, port)
                writer.write(f"{head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
                status = await asyncio.wait_for(_status(reader), spec.timeout_s)
            except TimeoutError:
                timeouts += 1
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                errors += 1
            if 200 <= status < 300:
                latencies.append(time.perf_counter() - sent)
            else:
                errors += status != 0
                if writer is not None:
                    writer.close()
                reader = writer = None

    await asyncio.gather(*(client(c) for c in range(spec.connections)))
    wall = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[int(p * (len(latencies) - 1))] * 1000 if latencies else 0.0

    return Load(len(latencies), errors, timeouts, wall, pct(0.50), pct(0.99))


async def _status(reader: asyncio.StreamReader | None) -> int:
    assert reader is not None
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    return status
