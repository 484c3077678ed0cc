"""Run the real Zapier runtime (zapier-platform-core from npm) against the live connector."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).parent / "zapier_runtime"


def ensure_installed() -> None:
    if (HARNESS / "node_modules" / "zapier-platform-core").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to run the Zapier runtime tests (.ci/run installs it)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HARNESS, check=True)


def run(action: str, base_url: str, api_key: str, inputs: dict[str, Any] | None = None) -> Any:
    """One action through createAppTester; returns the harness's JSON line."""
    ensure_installed()
    request = {"base_url": base_url, "api_key": api_key, "action": action, "input": inputs or {}}
    done = subprocess.run(
        ["node", str(HARNESS / "run_create.js")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
