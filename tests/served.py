"""Run the real ``lto-connector serve`` (gunicorn, several worker processes) as a subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.conftest import CONNECTOR_KEY
from tests.kaleyra_fake import API_KEY, SENDER, SID, FakeKaleyra

CLI = [sys.executable, "-m", "connector"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kaleyra_env(kaleyra: FakeKaleyra, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALEYRA_", "CONNECTOR_"))}
    env.update(
        KALEYRA_SID=SID,
        KALEYRA_API_KEY=API_KEY,
        KALEYRA_SENDER=SENDER,
        KALEYRA_BASE_URL=kaleyra.base_url,
        CONNECTOR_API_KEYS=CONNECTOR_KEY,
        CONNECTOR_DATABASE_URL=database_url,
        CONNECTOR_DEFAULT_REGION="IN",
    )
    return env


@dataclass
class Served:
    base_url: str
    log_path: Path
    process: subprocess.Popen[bytes]

    def crash(self) -> None:
        """SIGKILL the server and its gunicorn workers at once, as a host failure would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def logs(self) -> str:
        return self.log_path.read_text()


@contextmanager
def serve(
    env: dict[str, str],
    tmp_path: Path,
    workers: int = 3,
    extra: tuple[str, ...] = (),
    port: int | None = None,
) -> Iterator[Served]:
    port = port or free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("a") as log:
        process = subprocess.Popen(
            [*CLI, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *extra],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
            start_new_session=True,  # its own process group: a crash test can SIGKILL it whole
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"lto-connector serve did not start:\n{log_path.read_text()}")
            time.sleep(0.1)
        yield Served(base_url, log_path, process)
    finally:
        stop(process)


@contextmanager
def worker(
    env: dict[str, str], tmp_path: Path, threads: int = 4
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `lto-connector worker` until the block ends (SIGTERM, as an orchestrator stops it)."""
    log = (tmp_path / "worker.log").open("ab")
    process = subprocess.Popen(
        [*CLI, "worker", "--threads", str(threads)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        stop(process)
        log.close()


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a graceful stop), then SIGKILL for the process group if 30 s were not enough."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, every: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {predicate}")
        time.sleep(every)
