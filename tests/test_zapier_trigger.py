"""Zapier's "Message status changed" trigger: the REST hook's routes, driven by the generated
integration in the real zapier-platform-core runtime, and the notifier's Zapier target posting
to a real hook receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
import requests
import urllib3
from sqlalchemy import create_engine, insert

from connector.notify.base import FanOut, Notice
from connector.notify.record import status_record
from connector.notify.targets import build_targets
from connector.notify.zapier import ZapierTarget
from connector.store import Event
from connector.store.schema import statuses
from connector.store.zapier_hooks import ZapierHooks, hooks_by_account
from tests import zapier_runtime
from tests.conftest import CONNECTOR_KEY, LiveConnector
from tests.kaleyra_fake import FakeKaleyra, QuietHandler
from tests.platform_cases import ACME_KEY, OTHER_KEY, api_offer
from tests.served import kaleyra_env, serve
from tests.test_zapier import ZAP_INPUT

ZAPIER_HOOK = "https://hooks.zapier.com/hooks/standard/1234567/0a1b2c3d4e5f/"


def hooks_of(live: LiveConnector) -> ZapierHooks:
    return ZapierHooks(live.runtime.store.db)


def send_offer(live: LiveConnector, key: str = CONNECTOR_KEY, ref: str = "order-42") -> Event:
    response = live.post("/v1/messages", key=key, json={**api_offer(), "ref": ref})
    assert response.status_code == 202, response.text
    event = live.runtime.store.get(response.json()["id"])
    assert event is not None
    return event


def report(live: LiveConnector, event: Event, status: str, at_ms: int, **extra: Any) -> None:
    """A status as the delivery-report route stores it (that route is built elsewhere)."""
    values = {"event_id": event.id, "status": status, "at_ms": at_ms, "error_code": None,
              "error_reason": None, "received_ms": at_ms + 50, "forward": True,
              "fanned_out": False, **extra}  # fmt: skip
    with live.runtime.store.db.write() as conn:
        conn.execute(insert(statuses).values(**values))


# --- the REST hook in the real Zapier runtime -----------------------------------------------------


def test_turning_a_zap_on_subscribes_its_hook_to_the_connection(connector: LiveConnector) -> None:
    outcome = zapier_runtime.run("subscribe", connector.base_url, CONNECTOR_KEY,
                                 bundle={"targetUrl": ZAPIER_HOOK})  # fmt: skip
    assert outcome["ok"], outcome
    hook_id = outcome["result"]["id"]
    assert hooks_of(connector).target_url(hook_id) == ZAPIER_HOOK
    assert hooks_by_account(connector.runtime.store.db) == {"default": [hook_id]}


def test_turning_the_zap_off_deletes_the_subscription(connector: LiveConnector) -> None:
    hook_id = zapier_runtime.run("subscribe", connector.base_url, CONNECTOR_KEY,
                                 bundle={"targetUrl": ZAPIER_HOOK})["result"]["id"]  # fmt: skip
    off = {"subscribeData": {"id": hook_id}, "targetUrl": ZAPIER_HOOK}
    outcome = zapier_runtime.run("unsubscribe", connector.base_url, CONNECTOR_KEY, bundle=off)
    assert outcome["ok"], outcome
    assert hooks_of(connector).target_url(hook_id) is None
    assert hooks_by_account(connector.runtime.store.db) == {}
    again = zapier_runtime.run("unsubscribe", connector.base_url, CONNECTOR_KEY, bundle=off)
    assert (again["name"], again["status"], again["code"]) == ("AppError", 404, "not_found")


def test_a_posted_record_becomes_one_trigger_item(connector: LiveConnector) -> None:
    record = status_record(send_offer(connector), "read", 1_900_000_000_000, None, None)
    outcome = zapier_runtime.run("hook", connector.base_url, CONNECTOR_KEY,
                                 bundle={"cleanedRequest": record})  # fmt: skip
    assert outcome == {"ok": True, "result": [record]}


def test_the_zap_editor_lists_the_connections_latest_status_changes(
    start_connector: Callable[..., LiveConnector], db_url: str
) -> None:
    live = start_connector(database_url=db_url)
    first, second = send_offer(live, ref="first"), send_offer(live, ref="second")
    report(live, first, "sent", 1_900_000_000_000)
    report(live, first, "delivered", 1_900_000_001_000)
    report(live, second, "failed", 1_900_000_002_000, error_code="131026",
           error_reason="Message undeliverable")  # fmt: skip
    report(live, second, "delivered", 1_900_000_003_000, forward=False)  # after failed: no change

    outcome = zapier_runtime.run("hook_list", live.base_url, CONNECTOR_KEY)
    assert outcome["ok"], outcome
    records = outcome["result"]
    assert [(r["event_id"], r["status"]) for r in records] == [
        (second.id, "failed"), (first.id, "delivered"), (first.id, "sent")]  # fmt: skip
    assert records[0] == status_record(second, "failed", 1_900_000_002_000, "131026",
                                       "Message undeliverable")  # fmt: skip
    assert records[0]["ref"] == "second" and records[0]["recipient_last4"] == "3210"
    assert "+919876543210" not in json.dumps(records)  # never the full number
    limited = requests.get(live.base_url + "/v1/zapier/status-changes?limit=1", timeout=10,
                           headers={"X-Api-Key": CONNECTOR_KEY})  # fmt: skip
    assert [r["id"] for r in limited.json()] == [f"{second.id}:failed"]


def test_each_connection_lists_and_unsubscribes_only_its_own(tenants: LiveConnector) -> None:
    acme, other = send_offer(tenants, ACME_KEY), send_offer(tenants, OTHER_KEY)
    report(tenants, acme, "delivered", 1_900_000_000_000)
    report(tenants, other, "read", 1_900_000_001_000)
    listed = zapier_runtime.run("hook_list", tenants.base_url, ACME_KEY)["result"]
    assert [r["event_id"] for r in listed] == [acme.id]
    assert zapier_runtime.run("hook_list", tenants.base_url, OTHER_KEY)["result"][0]["status"] == (
        "read"
    )

    hook_id = zapier_runtime.run("subscribe", tenants.base_url, ACME_KEY,
                                 bundle={"targetUrl": ZAPIER_HOOK})["result"]["id"]  # fmt: skip
    assert hooks_by_account(tenants.runtime.store.db) == {"acme": [hook_id]}
    stolen = zapier_runtime.run("unsubscribe", tenants.base_url, OTHER_KEY,
                                bundle={"subscribeData": {"id": hook_id}})  # fmt: skip
    assert stolen["status"] == 404
    assert hooks_of(tenants).target_url(hook_id) == ZAPIER_HOOK


def test_the_sample_and_output_fields_are_the_records_shape(connector: LiveConnector) -> None:
    definition = json.loads((zapier_runtime.INTEGRATION.parent / "definition.json").read_text())
    operation = definition["triggers"]["message_status"]["operation"]
    record = status_record(send_offer(connector), "sent", 1_900_000_000_000, None, None)
    assert list(operation["sample"]) == list(record)
    assert [f["key"] for f in operation["outputFields"]] == list(record)
    assert operation["type"] == "hook"


def test_the_served_connector_keeps_hooks_across_its_workers(
    kaleyra: FakeKaleyra, pg_url: str, tmp_path: Any
) -> None:
    """gunicorn with three workers on PostgreSQL: each Zapier call may reach another process."""
    with serve(kaleyra_env(kaleyra, pg_url), tmp_path, workers=3) as served:
        sent = zapier_runtime.run("create", served.base_url, CONNECTOR_KEY, ZAP_INPUT)["result"]
        engine = create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(insert(statuses).values(
                event_id=sent["id"], status="delivered", at_ms=1_900_000_000_000,
                received_ms=1_900_000_000_050, forward=True, fanned_out=False))  # fmt: skip
        hook_ids = [
            zapier_runtime.run("subscribe", served.base_url, CONNECTOR_KEY,
                               bundle={"targetUrl": f"{ZAPIER_HOOK}{n}/"})["result"]["id"]
            for n in range(3)
        ]  # fmt: skip
        assert hooks_by_account(engine) == {"default": hook_ids}
        for _ in range(3):
            listed = zapier_runtime.run("hook_list", served.base_url, CONNECTOR_KEY)["result"]
            assert [(r["id"], r["ref"]) for r in listed] == [(f"{sent['id']}:delivered",
                                                              "order-42")]  # fmt: skip
        for hook_id in hook_ids:
            off = zapier_runtime.run("unsubscribe", served.base_url, CONNECTOR_KEY,
                                     bundle={"subscribeData": {"id": hook_id}})  # fmt: skip
            assert off["ok"], off
        assert hooks_by_account(engine) == {}
        engine.dispose()
    logs = served.logs()
    assert "0a1b2c3d4e5f" not in logs and CONNECTOR_KEY not in logs  # no hook URL, no key
    assert "9876543210" not in logs


# --- errors --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [({"target_url": "ftp://hooks.example.com/x"}, "invalid_url"),
     ({"target_url": "not a url"}, "invalid_url"), ({"target_url": 7}, "invalid_url"),
     ({"target_url": "https://x.example/" + "a" * 2000}, "too_long"), ({}, "required")],
)  # fmt: skip
def test_a_bad_target_url_is_refused_naming_it(
    connector: LiveConnector, body: dict[str, Any], code: str
) -> None:
    response = connector.post("/v1/zapier/hooks", json=body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["errors"]["target_url"][0]["code"] == code
    assert error["message"].startswith("target_url: ")
    assert hooks_by_account(connector.runtime.store.db) == {}


def test_a_bad_limit_is_refused_naming_it(connector: LiveConnector) -> None:
    for limit in ("0", "101", "ten"):
        response = connector.get(f"/v1/zapier/status-changes?limit={limit}",
                                 headers={"X-Api-Key": CONNECTOR_KEY})  # fmt: skip
        assert response.status_code == 400 and "limit" in response.json()["errors"]


def test_a_wrong_or_missing_key_gets_what_the_create_action_gets(
    connector: LiveConnector,
) -> None:
    create = connector.post("/hooks/zapier", key="not-the-key", json={"to": "+919876543210"})
    for key in ("not-the-key", None):
        for response in (
            connector.post("/v1/zapier/hooks", key=key, json={"target_url": ZAPIER_HOOK}),
            connector.get(
                "/v1/zapier/status-changes", headers={"X-Api-Key": key} if key else {}
            ),  # fmt: skip
            requests.delete(
                connector.base_url + "/v1/zapier/hooks/hk_" + "0" * 32,
                headers={"X-Api-Key": key} if key else {},
                timeout=10,
            ),  # fmt: skip
        ):
            assert response.status_code == 401
            assert response.json() == create.json()
    for action in ("subscribe", "hook_list"):
        outcome = zapier_runtime.run(action, connector.base_url, "not-the-key",
                                     bundle={"targetUrl": ZAPIER_HOOK})  # fmt: skip
        assert outcome["name"] == "ExpiredAuthError", outcome  # "reconnect your account"
    assert hooks_by_account(connector.runtime.store.db) == {}


def test_an_unknown_hook_id_is_a_404_in_the_error_shape(connector: LiveConnector) -> None:
    for hook_id in ("hk_" + "0" * 32, "nonsense", "%00"):
        response = requests.delete(connector.base_url + "/v1/zapier/hooks/" + hook_id,
                                   headers={"X-Api-Key": CONNECTOR_KEY}, timeout=10)  # fmt: skip
        assert response.status_code == 404
        assert set(response.json()) >= {"code", "status", "message", "errors"}


# --- the notifier's target, posting to a real hook on loopback -----------------------------------


class HookReceiver:
    """A Zapier hook stand-in on 127.0.0.1: records each POST, answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.posts: list[dict[str, Any]] = []
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.posts.append({"path": self.path, "json": json.loads(body),
                                       "type": self.headers.get("Content-Type")})  # fmt: skip
                answer = b'{"status": "success"}'
                self.send_response(receiver.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str = "/hooks/standard/1/abc/") -> str:
        return f"http://127.0.0.1:{self.server.server_port}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hook = HookReceiver()
    yield hook
    hook.stop()


def notice(live: LiveConnector, event: Event, target: str, status: str = "delivered") -> Notice:
    connection = next(iter(live.runtime.connections))
    return Notice(id=1, target=target, status=status, at_ms=1_900_000_000_000, error_code=None,
                  error_reason=None, event=event, connection=connection, attempt=1)  # fmt: skip


def subscribed(live: LiveConnector, url: str) -> tuple[ZapierTarget, str, Event]:
    hook_id = hooks_of(live).add("default", url)
    event = send_offer(live)
    target = next(t for t in build_targets(live.runtime.store, live.settings) if t.name == "zapier")
    assert isinstance(target, ZapierTarget)
    fan_out = FanOut(zapier_hooks=hooks_by_account(live.runtime.store.db))
    connection = next(iter(live.runtime.connections))
    [row] = target.targets_for(event, connection, "delivered", fan_out)
    assert row == f"zapier:{hook_id}"
    return target, row, event


def test_each_status_change_is_posted_to_the_hook(
    connector: LiveConnector, receiver: HookReceiver
) -> None:
    target, row, event = subscribed(connector, receiver.url())
    outcome = target.send(notice(connector, event, row), urllib3.PoolManager())
    assert outcome.state == "done"
    [post] = receiver.posts
    assert post["path"] == "/hooks/standard/1/abc/" and post["type"] == "application/json"
    assert post["json"] == status_record(event, "delivered", 1_900_000_000_000, None, None)


def test_a_410_from_zapier_deletes_the_subscription(
    connector: LiveConnector, receiver: HookReceiver
) -> None:
    receiver.status = 410
    target, row, event = subscribed(connector, receiver.url())
    assert target.send(notice(connector, event, row), urllib3.PoolManager()).state == "gone"
    assert hooks_by_account(connector.runtime.store.db) == {}
    assert target.send(notice(connector, event, row, "read"), urllib3.PoolManager()).state == (
        "gone"
    )
    assert len(receiver.posts) == 1  # a deleted hook is not posted to again


def test_a_500_or_no_answer_is_retried(connector: LiveConnector, receiver: HookReceiver) -> None:
    receiver.status = 500
    target, row, event = subscribed(connector, receiver.url())
    outcome = target.send(notice(connector, event, row), urllib3.PoolManager())
    assert (outcome.state, outcome.error) == ("retry", 'HTTP 500: {"status": "success"}')
    receiver.stop()
    refused = target.send(notice(connector, event, row), urllib3.PoolManager())
    assert refused.state == "retry"
    assert hooks_of(connector).target_url(row.removeprefix("zapier:")) == receiver.url()


def test_a_connection_without_hooks_owes_zapier_nothing(connector: LiveConnector) -> None:
    event = send_offer(connector)
    target = ZapierTarget(connector.runtime.store)
    connection = next(iter(connector.runtime.connections))
    fan_out = FanOut(zapier_hooks={"another": ["hk_" + "1" * 32]})
    assert target.targets_for(event, connection, "read", fan_out) == []
