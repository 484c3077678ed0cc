"""Run the real ``lto-connector serve`` (gunicorn, several worker processes) as a subprocess."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from benchmarks.procs import free_port, stop, wait_until
from tests.kaleyra_fake import API_KEY, SENDER, SID, FakeKaleyra

__all__ = ["CLI", "CONNECTOR_KEY", "free_port", "kaleyra_env", "serve", "stop", "wait_until",
           "worker"]  # fmt: skip
CONNECTOR_KEY = "test-connector-key"  # the callers' API key in every test

CLI = [sys.executable, "-m", "connector"]


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
