"""The status loop through ``lto-connector serve`` as hosted: gunicorn, the commit process that
takes the callbacks' writes, and the embedded worker whose notifier tells the platform."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import requests

from tests.kaleyra_fake import FakeKaleyra
from tests.served import CLI, CONNECTOR_KEY, kaleyra_env, serve
from tests.status_loop import (
    CALLBACK_TOKEN,
    WEBHOOK_SECRET,
    KaleyraCallbacks,
    Receiver,
    webhook_problems,
)


def test_serve_takes_callbacks_and_its_worker_tells_the_status_webhook(
    kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    receiver = Receiver()
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    env.update(CONNECTOR_CALLBACK_TOKEN=CALLBACK_TOKEN, STATUS_WEBHOOK_URL=receiver.url,
               STATUS_WEBHOOK_SECRET=WEBHOOK_SECRET)  # fmt: skip
    try:
        with serve(env, tmp_path, workers=2) as served:
            offer = {"to": "+919876543210", "template_name": "lto_spring",
                     "coupon_code": "SPRING", "expires_in": "2d"}  # fmt: skip
            answer = requests.post(
                f"{served.base_url}/v1/messages", json=offer, timeout=10,
                headers={"X-Api-Key": CONNECTOR_KEY, "Prefer": "respond-async"},
            )  # fmt: skip
            assert answer.status_code == 202, answer.text
            deadline = time.monotonic() + 20
            while not kaleyra.sent and time.monotonic() < deadline:
                time.sleep(0.05)
            (record,) = kaleyra.sent
            callbacks = KaleyraCallbacks(f"{served.base_url}/callbacks/kaleyra/default")
            callbacks.url += f"/{CALLBACK_TOKEN}"
            assert callbacks.template(record, "delivered").json()["forward"] == 1
            assert callbacks.envelope(record, "read").json()["forward"] == 1
            assert callbacks.template(record, "read", method="POST").json()["duplicates"] == 1
            got = receiver.wait_for(2)
            time.sleep(0.5)  # nothing more comes
            assert [r.json["status"] for r in receiver.received] == ["delivered", "read"]
            assert [webhook_problems(r) for r in got] == [[], []]
            listed = subprocess.run(
                [*CLI, "events", "--json"], env=env, cwd=tmp_path, capture_output=True,
                text=True, timeout=60, check=True,
            )  # fmt: skip
            (row,) = [json.loads(line) for line in listed.stdout.splitlines()]
            assert row["delivery"] == "read"
            assert [s["status"] for s in row["statuses"]] == ["delivered", "read"]
    finally:
        receiver.stop()
