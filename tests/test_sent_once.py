"""Nothing is sent twice: concurrent identical calls, across threads and worker processes."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.conftest import CONNECTOR_KEY, LiveConnector, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.served import kaleyra_env, serve


def post_concurrently(url: str, bodies: list[dict[str, Any]]) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(
            pool.map(
                lambda body: requests.post(
                    url, json=body, headers={"X-Api-Key": CONNECTOR_KEY}, timeout=60
                ),
                bodies,
            )
        )


def test_concurrent_identical_calls_send_one_message(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra, db_url: str
) -> None:
    connector = start_connector(database_url=db_url)
    kaleyra.delay = 0.2  # keep the first send in flight while the others arrive
    responses = post_concurrently(connector.base_url + "/v1/messages", [offer()] * 16)
    assert [r.status_code for r in responses] == [202] * 16
    assert len({(r.json()["id"], r.json()["message_id"]) for r in responses}) == 1
    assert len(kaleyra.requests) == 1
    assert sum(not r.json()["replayed"] for r in responses) == 1


def test_concurrent_calls_with_one_idempotency_key(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra, db_url: str
) -> None:
    connector = start_connector(database_url=db_url)
    kaleyra.delay = 0.1
    bodies = [offer(idempotency_key=f"k{i % 4}") for i in range(16)]
    responses = post_concurrently(connector.base_url + "/hooks/zapier", bodies)
    assert all(r.status_code == 202 for r in responses)
    assert len({r.json()["message_id"] for r in responses}) == 4
    assert len(kaleyra.requests) == 4


def test_sent_once_across_gunicorn_worker_processes(kaleyra: FakeKaleyra, tmp_path: Path) -> None:
    env = kaleyra_env(kaleyra, f"sqlite:///{tmp_path}/events.db")
    kaleyra.delay = 0.05
    with serve(env, tmp_path, workers=3) as served:
        bodies = [offer(idempotency_key=f"order-{i % 10}") for i in range(40)]
        responses = post_concurrently(served.base_url + "/v1/messages", bodies)
        assert all(r.status_code == 202 for r in responses), [r.text for r in responses]
        by_key: dict[str, set[str]] = {}
        for body, response in zip(bodies, responses, strict=True):
            by_key.setdefault(body["idempotency_key"], set()).add(response.json()["message_id"])
        assert all(len(ids) == 1 for ids in by_key.values())
    assert len(kaleyra.requests) == 10
