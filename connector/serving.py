"""How ``lto-connector serve`` runs: gunicorn on ``connector:create_app()``, and the embedded
delivery worker beside it. The defaults were chosen by measurement (``benchmarks/campaign.py``);
the benchmark runs its ceiling app with the same ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any

from gunicorn.app.base import BaseApplication

# gthread: each worker process parks idle keep-alive connections in one poller (a campaign keeps
# hundreds open) and runs requests on its threads; a request mostly waits for its group commit,
# so many threads per process keep the groups large.
SERVE_DEFAULTS: dict[str, Any] = {"worker_class": "gthread", "workers": 2, "threads": 32}
# the embedded worker runs at a lower CPU priority than the web processes: intake answers within
# the platforms' deadlines (CleverTap's is 1 s); delivery is paced and catches up after a burst
EMBEDDED_WORKER_NICE = 10


def default(name: str, env: str) -> Any:
    raw = os.environ.get(env, "").strip()
    return type(SERVE_DEFAULTS[name])(raw) if raw else SERVE_DEFAULTS[name]


class Server(BaseApplication):
    def __init__(self, *, bind: str, workers: int, threads: int, timeout_s: int) -> None:
        self.options = {
            "bind": [bind],
            "workers": workers,
            "threads": threads,
            "timeout": timeout_s,
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)
        self.cfg.set("worker_class", SERVE_DEFAULTS["worker_class"])
        self.cfg.set("worker_connections", 2000)  # idle keep-alive connections per process
        self.cfg.set("backlog", 4096)  # a campaign opens hundreds of connections at once
        self.cfg.set("graceful_timeout", 30)
        self.cfg.set("accesslog", None)  # the app logs each request as JSON
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 27
            self.cfg.set("control_socket_disable", True)  # one per user, shared: not wanted

    def load(self) -> Any:
        from . import create_app

        return create_app()


class Companion:
    """A process ``serve`` runs beside gunicorn (the commit process, the embedded delivery
    worker), started again by the supervisor if it exits."""

    def __init__(self, name: str, command: list[str]) -> None:
        self.name = name
        self.command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command)

    def exited(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def stop(self, timeout: float) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class Supervisor(threading.Thread):
    """Restarts a companion that exited while ``serve`` runs."""

    def __init__(self, companions: list[Companion]) -> None:
        super().__init__(name="lto-supervisor", daemon=True)
        self.companions = companions
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            for companion in self.companions:
                if companion.exited() is not None and not self.stopping.is_set():
                    print(f"lto-connector: the {companion.name} stopped; starting it again",
                          file=sys.stderr, flush=True)  # fmt: skip
                    companion.start()

    def stop(self) -> None:
        self.stopping.set()


def commit_socket_path() -> tuple[str, str]:
    """(a private folder, the commit process's socket in it): short enough for AF_UNIX."""
    folder = tempfile.mkdtemp(prefix="lto-connector-")
    return folder, os.path.join(folder, "commit.sock")


def wait_for_socket(path: str, companion: Companion, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if companion.exited() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the {companion.name} did not start")
        time.sleep(0.02)
