"""Logs: one JSON line per request and per upstream call; no phone number or secret in them."""

from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.conftest import CONNECTOR_KEY, offer
from tests.kaleyra_fake import API_KEY, FakeKaleyra
from tests.served import kaleyra_env, serve


def test_served_logs_are_json_and_never_show_numbers_or_secrets(
    kaleyra: FakeKaleyra, tmp_path: Path
) -> None:
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    kaleyra.then("ok").then("WA400")
    with serve(env, tmp_path, workers=1) as served:
        url = served.base_url + "/v1/messages"
        headers = {"X-Api-Key": CONNECTOR_KEY}
        assert requests.post(url, json=offer(), headers=headers, timeout=30).status_code == 202
        assert requests.post(url, json=offer(to="+91 98765 00000"), headers=headers,
                             timeout=30).status_code == 422  # fmt: skip
        assert (
            requests.post(url, json=offer(to="12"), headers=headers, timeout=30).status_code == 422
        )
        assert requests.post(url, json=offer(), headers={"X-Api-Key": "leaked-guess"},
                             timeout=30).status_code == 401  # fmt: skip
    text = served.logs()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    requests_logged = [
        line for line in lines if line["event"] == "request" and line["path"] != "/healthz"
    ]
    upstream = [line for line in lines if line["event"] == "upstream"]
    assert [line["status"] for line in requests_logged] == [202, 422, 422, 401]
    assert [line["outcome"] for line in upstream] == ["accepted", "failed"]
    assert upstream[0]["to"] == "********3210" and upstream[0]["message_id"]
    for secret in ("9876543210", "9876500000", API_KEY, CONNECTOR_KEY, "leaked-guess"):
        assert secret not in text
