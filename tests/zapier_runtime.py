"""Run the generated Zapier integration (``manifests/zapier``) in the real zapier-platform-core
runtime from npm, against the live connector."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "zapier_runtime"
INTEGRATION = ROOT / "manifests" / "zapier" / "index.js"


def ensure_installed() -> None:
    if (HARNESS / "node_modules" / "zapier-platform-core").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed to run the Zapier runtime tests (.ci/run installs it)")
    subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=HARNESS, check=True)


def run(
    action: str,
    base_url: str = "",
    api_key: str = "",
    inputs: dict[str, Any] | None = None,
    app: Path = INTEGRATION,
    bundle: dict[str, Any] | None = None,
) -> Any:
    """One action (create, auth, templates, subscribe, unsubscribe, hook, hook_list, validate);
    ``bundle`` adds what Zapier gives a REST hook (targetUrl, subscribeData, cleanedRequest).
    Returns the harness's JSON line."""
    ensure_installed()
    request = {
        "app": str(app),
        "base_url": base_url,
        "api_key": api_key,
        "action": action,
        "input": inputs or {},
        "bundle": bundle or {},
    }
    done = subprocess.run(
        ["node", str(HARNESS / "run_app.js")],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "NODE_PATH": str(HARNESS / "node_modules")},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])
