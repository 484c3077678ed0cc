"""py-spy recordings of the processes under load, and where their time went.

``Profiler(folder).record(tag, pids, seconds)`` samples each pid with ``py-spy record`` (raw
collapsed stacks, non-blocking) while the block runs; ``summarise()`` prints, per process kind
(the web workers and the delivery workers), the functions holding the most samples themselves
(self) and the connector's own frames by inclusive samples.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchmarks.procs import command_of

# beside this interpreter (a virtualenv's bin) or on PATH
PY_SPY = shutil.which(
    "py-spy", path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
)
FRAME = re.compile(r"^(?P<name>.*?) \((?P<file>[^:()]+)(?::\d+)?\)$")


class Profiler:
    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.files: list[tuple[str, str, Path]] = []  # (tag, process kind, file)
        if folder is not None:
            if PY_SPY is None:
                raise SystemExit("--profile needs py-spy: .venv/bin/pip install py-spy")
            folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def record(self, tag: str, pids: list[int], seconds: float) -> Iterator[None]:
        if self.folder is None:
            yield
            return
        running = []
        for pid in pids:
            kind = process_kind(command_of(pid))
            if kind is None:
                continue
            out = self.folder / f"{tag}-{kind}-{pid}.txt"
            command = [
                str(PY_SPY),
                "record",
                "--nonblocking",
                "-r",
                "67",
                "-d",
                f"{seconds:g}",
                "-f",
                "raw",
                "-o",
                str(out),
                "-p",
                str(pid),
            ]
            running.append(
                subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            )
            self.files.append((tag, kind, out))
        try:
            yield
        finally:
            for process in running:
                process.wait(timeout=seconds + 60)

    def summarise(self, top: int = 12) -> None:
        if self.folder is None:
            return
        groups: dict[tuple[str, str], list[Path]] = defaultdict(list)
        for tag, kind, path in self.files:
            groups[(tag, kind)].append(path)
        print(f"\nprofiles (py-spy, raw stacks in {self.folder}):")
        for (tag, kind), paths in groups.items():
            own, inclusive, total = Counter[str](), Counter[str](), 0
            for path in paths:
                if not path.exists():
                    continue
                for line in path.read_text().splitlines():
                    stack, _, count_text = line.rpartition(" ")
                    count = int(count_text)
                    frames = [short(f) for f in stack.split(";") if f]
                    total += count
                    if frames:
                        own[frames[-1]] += count
                    for name in set(frames):
                        if "connector/" in name:
                            inclusive[name] += count
            if not total:
                continue
            print(f"\n  {tag} / {kind}: {total} samples")
            print(
                "    self:      "
                + "; ".join(f"{n} {c / total:.0%}" for n, c in own.most_common(top))
            )
            print(
                "    connector: "
                + "; ".join(f"{n} {c / total:.0%}" for n, c in inclusive.most_common(top))
            )


def short(frame: str) -> str:
    """``deliver (connector/delivery.py:120)`` → ``connector/delivery.py:deliver``."""
    found = FRAME.match(frame.strip())
    if not found:
        return frame.strip()
    path = found["file"]
    for marker in ("site-packages/", "lib/python3", "connector/"):
        if marker in path:
            path = path[path.index(marker) :]
            break
    path = path.removeprefix("site-packages/")
    return f"{path}:{found['name']}"


def process_kind(command: str) -> str | None:
    if "commit-process" in command:
        return "commit-process"
    if " worker" in command and "connector" in command:
        return "delivery-worker"
    if "gunicorn" in command or "connector serve" in command or " serve " in command:
        return "web"
    return None
