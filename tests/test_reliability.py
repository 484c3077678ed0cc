"""The reliability runs of the durable-delivery issue, at full size, against real processes:
`lto-connector serve` (gunicorn, its commit process) and `lto-connector worker`, killed with
SIGKILL mid-run, and a loopback Kaleyra that fails at random. Long: marked ``slow``."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from benchmarks.procs import command_of, descendants
from tests.conftest import CONNECTOR_KEY, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.served import CLI, free_port, kaleyra_env, serve, wait_until, worker

ASYNC = {"Prefer": "respond-async", "X-Api-Key": CONNECTOR_KEY}
pytestmark = pytest.mark.slow


def fast_env(kaleyra: FakeKaleyra, tmp_path: Path, **extra: str) -> dict[str, str]:
    return kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db") | {
        "KALEYRA_RATE_LIMIT": "0",
        "CONNECTOR_RETRY_BASE": "0.05",
        "KALEYRA_READ_TIMEOUT": "0.5",
        "KALEYRA_CONNECT_TIMEOUT": "0.5",
        "CONNECTOR_LOG_LEVEL": "WARNING",
        **extra,
    }


def events_by_status(env: dict[str, str], tmp_path: Path, status: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [*CLI, "events", "--status", status, "--limit", "100000", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def settled_count(env: dict[str, str], tmp_path: Path) -> int:
    return sum(len(events_by_status(env, tmp_path, s)) for s in ("accepted", "dead", "uncertain"))


def refs_sent(kaleyra: FakeKaleyra) -> list[str]:
    return [r.json["extra_info"]["ref"] for r in kaleyra.requests]


def test_duplicate_storm_sends_each_message_once(kaleyra: FakeKaleyra, tmp_path: Path) -> None:
    env = fast_env(kaleyra, tmp_path)
    bodies = [offer(ref=f"s{i}", idempotency_key=f"storm-{i}") for i in range(2000)] * 3
    random.Random(1).shuffle(bodies)
    with serve(env, tmp_path, workers=2) as served:
        session_local = threading.local()

        def post(body: dict[str, Any]) -> int:
            session = getattr(session_local, "s", None) or requests.Session()
            session_local.s = session
            return session.post(served.base_url + "/v1/messages", json=body, headers=ASYNC,
                                timeout=60).status_code  # fmt: skip

        with ThreadPoolExecutor(max_workers=32) as pool:
            assert set(pool.map(post, bodies)) == {202}
        wait_until(lambda: len(kaleyra.sent) >= 2000, timeout=120, every=0.5)
        time.sleep(1)  # anything extra would show up now
    assert len(kaleyra.requests) == 2000 and len(set(refs_sent(kaleyra))) == 2000


def test_sigkilled_worker_and_server_lose_no_acknowledged_message(
    kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    kaleyra.delay = 0.02
    env = fast_env(kaleyra, tmp_path)
    port = free_port()
    acknowledged: set[str] = set()
    lock = threading.Lock()
    server_up = threading.Event()

    def post_until_acknowledged(i: int) -> None:
        body = offer(ref=f"c{i}", idempotency_key=f"crash-{i}")
        while True:  # a client retries until the connector acknowledges (same key)
            server_up.wait()
            try:
                response = requests.post(f"http://127.0.0.1:{port}/v1/messages", json=body,
                                         headers=ASYNC, timeout=10)  # fmt: skip
            except requests.ConnectionError:
                time.sleep(0.1)
                continue
            if response.status_code == 202:
                with lock:
                    acknowledged.add(body["ref"])
                return
            time.sleep(0.1)

    rng = random.Random(2)
    kill_worker_at, kill_server_at = rng.randint(200, 700), rng.randint(900, 1500)
    extra = ("--no-embedded-worker",)
    with ThreadPoolExecutor(max_workers=16) as pool:
        with serve(env, tmp_path, workers=2, extra=extra, port=port) as first_server:
            server_up.set()
            futures = [pool.submit(post_until_acknowledged, i) for i in range(2000)]
            with worker(env, tmp_path) as first_worker:
                wait_until(lambda: len(kaleyra.sent) >= kill_worker_at, timeout=120)
                first_worker.kill()  # SIGKILL
                first_worker.wait()
            with worker(env, tmp_path):
                wait_until(lambda: len(acknowledged) >= kill_server_at, timeout=120)
                server_up.clear()
                first_server.crash()  # SIGKILL the whole gunicorn process group
                time.sleep(0.5)
                with serve(env, tmp_path, workers=2, extra=extra, port=port):
                    server_up.set()
                    for future in futures:
                        future.result(timeout=300)
                    wait_until(lambda: settled_count(env, tmp_path) >= 2000, timeout=180, every=1)

    accepted = {e["id"] for e in events_by_status(env, tmp_path, "accepted")}
    uncertain = events_by_status(env, tmp_path, "uncertain")
    assert len(acknowledged) == 2000
    assert len(accepted) + len(uncertain) == 2000  # every acknowledged message settled
    assert len(uncertain) <= 8  # at most what the killed worker held in flight
    sent = refs_sent(kaleyra)
    assert len(sent) == len(set(sent))  # no message sent twice
    assert len(kaleyra.sent) >= len(accepted)


def test_upstream_faults_retried_to_delivery_and_refusals_dead_lettered(
    tmp_path: Path,
) -> None:
    kaleyra = FakeKaleyra(
        faults={"WA500": 0.3, "reset": 0.1}, refuse_template="lto_refused"
    ).start()
    try:
        # A reset answer cannot be told from a lost one, so by default it is "uncertain";
        # with retry_uncertain the account accepts the risk and it is retried.
        env = fast_env(kaleyra, tmp_path, CONNECTOR_RETRY_UNCERTAIN="1")
        with serve(env, tmp_path, workers=2) as served:

            def post(i: int) -> int:
                template = "lto_refused" if i % 20 == 0 else "lto_template"
                body = offer(ref=f"f{i}", template_name=template)
                return requests.post(served.base_url + "/v1/messages", json=body, headers=ASYNC,
                                     timeout=60).status_code  # fmt: skip

            with ThreadPoolExecutor(max_workers=16) as pool:
                assert set(pool.map(post, range(2000))) == {202}
            wait_until(lambda: settled_count(env, tmp_path) >= 2000, timeout=240, every=1)
        dead = events_by_status(env, tmp_path, "dead")
        accepted = events_by_status(env, tmp_path, "accepted")
        assert len(dead) == 100 and {e["template"] for e in dead} == {"lto_refused"}
        assert {e["error"] for e in dead} == {"WA400"}
        assert len(accepted) == 1900
        accepted_refs = [r.json["extra_info"]["ref"] for r in kaleyra.sent]
        assert len(accepted_refs) == len(set(accepted_refs)) == 1900  # none delivered twice
        failures = [r for r in kaleyra.requests if not r.accepted]
        assert len(failures) > 500  # the faults really happened, and were retried through
    finally:
        kaleyra.stop()


def test_a_killed_commit_process_loses_no_acknowledged_offer(
    kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    """The commit process dies mid-burst: the web processes write directly until `serve` has
    started it again; every acknowledged offer is stored and sent once."""
    # this process's loopback Kaleyra answers slowly under the burst: give it time, so that
    # every send gets its answer and none has to be counted uncertain
    env = fast_env(kaleyra, tmp_path, KALEYRA_READ_TIMEOUT="10", CONNECTOR_WORKER_THREADS="16")
    acknowledged: set[str] = set()
    lock = threading.Lock()
    with serve(env, tmp_path, workers=2) as served:
        session_local = threading.local()

        def post(i: int) -> None:
            session = getattr(session_local, "s", None) or requests.Session()
            session_local.s = session
            body = offer(ref=f"k{i}", idempotency_key=f"commit-{i}")
            while True:  # a platform retries until the connector acknowledges (same key)
                response = session.post(served.base_url + "/v1/messages", json=body,
                                        headers=ASYNC, timeout=30)  # fmt: skip
                if response.status_code == 202:
                    with lock:
                        acknowledged.add(body["ref"])
                    return
                time.sleep(0.05)

        def commit_process() -> int | None:
            found = [
                p for p in descendants(served.process.pid) if "commit-process" in command_of(p)
            ]
            return found[0] if found else None

        first = commit_process()
        assert first is not None
        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(post, i) for i in range(3000)]
            wait_until(lambda: len(acknowledged) >= 800, timeout=120)
            os.kill(first, signal.SIGKILL)
            for future in futures:
                future.result(timeout=300)
        wait_until(lambda: commit_process() not in (None, first), timeout=30)  # restarted
        wait_until(lambda: settled_count(env, tmp_path) >= 3000, timeout=240, every=1)
    assert len(acknowledged) == 3000
    assert len(events_by_status(env, tmp_path, "accepted")) == 3000
    sent = refs_sent(kaleyra)
    assert len(sent) == len(set(sent)) == 3000  # each acknowledged offer sent exactly once
