"""Delivery reports end to end: an offer comes in from a platform, the loopback Kaleyra accepts
it and reports back (both documented shapes, GET and POST, duplicated, out of order, early), and
the platform's own loopback receiver gets each status once, in its format, with its own id."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from connector.notify.notifier import Notifier, build_notifier
from tests.conftest import LiveConnector, deliver_queued
from tests.kaleyra_fake import FakeKaleyra, Recorded
from tests.platform_cases import ACME_KEY, cases
from tests.status_loop import (
    CALLBACK_TOKEN,
    WEBENGAGE_TOKEN,
    WEBHOOK_SECRET,
    KaleyraCallbacks,
    Receiver,
    clevertap_problems,
    webengage_problems,
    webhook_problems,
)

CLEVERTAP_MSG_ID = "48213377|1893456000|20301101|48213377"
WEBENGAGE_MESSAGE_ID = "wa~1a2b3c4d~5e6f7a8b-0c1d-4e2f-9a3b-4c5d6e7f8a9b"


@pytest.fixture
def receivers() -> Iterator[dict[str, Receiver]]:
    started = {name: Receiver() for name in ("clevertap", "webengage", "webhook")}
    yield started
    for receiver in started.values():
        receiver.stop()


@pytest.fixture
def loop(
    start_tenants: Callable[..., LiveConnector],
    receivers: dict[str, Receiver],
    monkeypatch: pytest.MonkeyPatch,
) -> LiveConnector:
    """Tenant ``acme`` with every report destination set, secrets from the environment."""
    monkeypatch.setenv("TEST_CALLBACK_TOKEN", CALLBACK_TOKEN)
    monkeypatch.setenv("TEST_WEBENGAGE_TOKEN", WEBENGAGE_TOKEN)
    monkeypatch.setenv("TEST_WEBHOOK_SECRET", WEBHOOK_SECRET)

    def reports(doc: dict[str, Any]) -> None:
        doc["connections"]["acme"]["reports"] = {
            "callback_token": "${TEST_CALLBACK_TOKEN}",
            "clevertap_url": receivers["clevertap"].url,
            "webengage": {"url": receivers["webengage"].url, "token": "${TEST_WEBENGAGE_TOKEN}"},
            "webhook": {"url": receivers["webhook"].url, "secret": "${TEST_WEBHOOK_SECRET}"},
        }

    return start_tenants(reports)


def callbacks(connector: LiveConnector) -> KaleyraCallbacks:
    return KaleyraCallbacks(f"{connector.base_url}/callbacks/kaleyra/acme/{CALLBACK_TOKEN}")


def notifier_of(connector: LiveConnector) -> Notifier:
    return build_notifier(connector.runtime)


def send_from(platform: str, connector: LiveConnector, kaleyra: FakeKaleyra) -> Recorded:
    case = next(c for c in cases("unused") if c.platform == platform)
    answer = case.valid().send(connector.base_url)
    assert answer.status_code < 300, answer.text
    deliver_queued(connector)
    assert len(kaleyra.sent) == 1
    return kaleyra.sent[0]


def statuses_in(receiver: Receiver, key: Callable[[Any], Any]) -> list[Any]:
    return [key(r.json) for r in receiver.received]


def test_clevertap_hears_delivered_then_read_once_each_with_its_msg_id(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    record = send_from("clevertap", loop, kaleyra)
    kaleyra_cb = callbacks(loop)
    assert kaleyra_cb.template(record, "sent").status_code == 200
    assert kaleyra_cb.envelope(record, "delivered").status_code == 200
    assert kaleyra_cb.template(record, "delivered", method="POST").json()["duplicates"] == 1
    assert kaleyra_cb.envelope(record, "read").status_code == 200
    notifier_of(loop).drain()

    got = receivers["clevertap"].received
    assert [r.json["statuses"][0]["status"] for r in got] == ["sent", "delivered", "read"]
    assert {r.json["statuses"][0]["msgId"] for r in got} == {CLEVERTAP_MSG_ID}
    assert [p for r in got for p in clevertap_problems(r)] == []
    assert receivers["webhook"].received == []  # CleverTap hears in its own format only


def test_a_failure_reaches_clevertap_with_its_error_code(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    record = send_from("clevertap", loop, kaleyra)
    errors = [{"code": 131047, "title": "Re-engagement message"}]
    callbacks(loop).envelope(record, "failed", errors=errors)
    notifier_of(loop).drain()
    (got,) = receivers["clevertap"].received
    assert got.json["statuses"][0]["error"] == {"code": 1008, "title": "Re-engagement message"}
    assert clevertap_problems(got) == []


def test_webengage_hears_in_its_format_with_its_token_and_message_id(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    record = send_from("webengage", loop, kaleyra)
    kaleyra_cb = callbacks(loop)
    kaleyra_cb.envelope(record, "read", at=time.time())  # out of order: read first
    kaleyra_cb.template(record, "delivered", at=time.time() - 5)
    kaleyra_cb.template(record, "read")  # duplicate
    notifier_of(loop).drain()

    got = receivers["webengage"].received
    assert [r.json["status"] for r in got] == ["whatsapp_read"]  # never backwards
    assert got[0].json["messageId"] == WEBENGAGE_MESSAGE_ID
    assert [p for r in got for p in webengage_problems(r)] == []
    event = loop.runtime.store.get(json.loads(record.body)["extra_info"]["ref"])
    assert event is not None and event.delivery_status == "read"


def test_api_callers_get_a_signed_standard_webhook_once_per_status(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    answer = requests.post(
        f"{loop.base_url}/v1/messages",
        json={"to": "+919876543210", "template_name": "lto_spring", "coupon_code": "SPRING",
              "expires_in": "2d", "body_params": ["Priya"]},
        headers={"X-Api-Key": ACME_KEY}, timeout=10,
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    (record,) = kaleyra.sent
    kaleyra_cb = callbacks(loop)
    kaleyra_cb.template(record, "delivered")
    kaleyra_cb.template(record, "delivered")
    kaleyra_cb.envelope(record, "read")
    notifier_of(loop).drain()

    got = receivers["webhook"].received
    assert [webhook_problems(r) for r in got] == [[], []]
    assert [r.json["status"] for r in got] == ["delivered", "read"]
    assert {r.json["event_id"] for r in got} == {answer.json()["id"]}
    assert len({r.headers["webhook-id"] for r in got}) == 2
    assert "9876543210" not in b"".join(r.body for r in got).decode()  # never the full number


def test_a_report_that_beats_the_send_answer_is_kept_and_matched(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    """Every ref set by the caller: only the message id can match, and Kaleyra reports before
    its own 202 reached the connector, so the id is not stored yet."""
    kaleyra_cb = callbacks(loop)
    early: list[requests.Response] = []
    kaleyra.before_answer = lambda record: early.append(kaleyra_cb.template(record, "delivered"))
    offer = {"to": "+919876543210", "template_name": "lto_spring", "coupon_code": "SPRING",
             "expires_in": "2d", "ref": "crm-1", "ref1": "spring", "ref2": "batch-7"}  # fmt: skip
    answer = requests.post(f"{loop.base_url}/v1/messages", json=offer,
                           headers={"X-Api-Key": ACME_KEY}, timeout=10)  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert early[0].json()["early"] == 1  # kept, not dropped
    (record,) = kaleyra.sent
    assert record.json["extra_info"]["ref"] == "crm-1"  # the caller's refs are never overwritten
    notifier_of(loop).drain()
    assert [r.json["status"] for r in receivers["webhook"].received] == ["delivered"]


def test_a_receiver_that_is_down_gets_every_status_once_it_is_back(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    record = send_from("clevertap", loop, kaleyra)
    clevertap = receivers["clevertap"]
    clevertap.stop()
    kaleyra_cb = callbacks(loop)
    kaleyra_cb.template(record, "delivered")
    kaleyra_cb.template(record, "read")
    notifier = notifier_of(loop)
    notifier.drain(timeout_s=2)  # refused: retried later, kept meanwhile
    clevertap.start()
    deadline = time.monotonic() + 30
    while len(clevertap.received) < 2 and time.monotonic() < deadline:
        notifier.round()
        time.sleep(0.1)
    assert [r.json["statuses"][0]["status"] for r in clevertap.received] == ["delivered", "read"]


def test_callbacks_need_the_connections_token(loop: LiveConnector, kaleyra: FakeKaleyra) -> None:
    record = send_from("clevertap", loop, kaleyra)
    base = f"{loop.base_url}/callbacks/kaleyra/acme"
    query = {"id": f"{record.message_id}:0", "status": "delivered"}
    assert requests.get(f"{base}/wrong-token-000000", params=query, timeout=5).status_code == 401
    assert requests.get(base, params=query, timeout=5).status_code == 401
    basic = requests.get(base, params=query, auth=("kaleyra", CALLBACK_TOKEN), timeout=5)
    header = requests.get(base, params=query, headers={"X-Callback-Token": CALLBACK_TOKEN},
                          timeout=5)  # fmt: skip
    assert (basic.status_code, header.status_code) == (200, 200)
    assert header.json()["duplicates"] == 1
    other = requests.get(f"{loop.base_url}/callbacks/kaleyra/other/{CALLBACK_TOKEN}",
                         params=query, timeout=5)  # fmt: skip
    assert other.status_code == 401  # another connection's URL does not take acme's token


@pytest.mark.parametrize(
    ("query", "field", "code"),
    [
        ({"id": "A1:0", "status": "bounced"}, "status", "invalid_status"),
        ({"id": "A1:0"}, "status", "required"),
        ({"status": "read"}, "id", "required"),
        ({"id": "A1:0", "status": "read", "timestamp": "yesterday"}, "timestamp",
         "invalid_timestamp"),
    ],
)  # fmt: skip
def test_a_callback_kaleyra_could_not_have_sent_is_refused_naming_the_field(
    loop: LiveConnector, query: dict[str, str], field: str, code: str
) -> None:
    answer = requests.get(f"{loop.base_url}/callbacks/kaleyra/acme/{CALLBACK_TOKEN}",
                          params=query, timeout=5)  # fmt: skip
    assert answer.status_code == 422
    assert answer.json()["errors"][field][0]["code"] == code


def test_the_event_shows_its_status_history(loop: LiveConnector, kaleyra: FakeKaleyra) -> None:
    record = send_from("clevertap", loop, kaleyra)
    kaleyra_cb = callbacks(loop)
    kaleyra_cb.template(record, "delivered", at=1_900_000_000)
    kaleyra_cb.template(record, "read", at=1_900_000_060)
    notifier_of(loop).drain()
    event_id = record.json["extra_info"]["ref"]
    view = requests.get(f"{loop.base_url}/v1/events/{event_id}",
                        headers={"X-Api-Key": ACME_KEY}, timeout=5).json()  # fmt: skip
    assert view["delivery_status"] == "read"
    assert [(s["status"], s["at_ms"]) for s in view["statuses"]] == [
        ("delivered", 1_900_000_000_000), ("read", 1_900_000_060_000)]  # fmt: skip
    assert {(n["target"], n["status"], n["state"]) for n in view["notifications"]} == {
        ("clevertap", "delivered", "done"), ("clevertap", "read", "done")}  # fmt: skip
    metrics = requests.get(f"{loop.base_url}/metrics", timeout=5).text
    assert 'lto_delivery_statuses_total{status="read"} 1.0' in metrics


def test_a_zap_subscribed_to_status_changes_gets_each_status_once(
    loop: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    hook = Receiver()
    try:
        subscribed = requests.post(f"{loop.base_url}/v1/zapier/hooks",
                                   json={"target_url": hook.url},
                                   headers={"X-Api-Key": ACME_KEY}, timeout=10)  # fmt: skip
        assert subscribed.status_code == 201, subscribed.text
        record = send_from("zapier", loop, kaleyra)
        kaleyra_cb = callbacks(loop)
        kaleyra_cb.template(record, "delivered")
        kaleyra_cb.envelope(record, "delivered")  # the same status in the other shape
        kaleyra_cb.envelope(record, "read")
        notifier_of(loop).drain()
        got = hook.received
        assert [(r.json["status"], r.json["platform"]) for r in got] == [
            ("delivered", "zapier"), ("read", "zapier")]  # fmt: skip
        assert len({r.json["id"] for r in got}) == 2  # Zapier deduplicates on id
    finally:
        hook.stop()


def test_the_webhook_templates_list_the_fields_the_status_webhook_sends() -> None:
    from connector.manifests.webhook_templates import DELIVERY_REPORTS
    from connector.notify.record import status_record
    from connector.store import Event
    from tests.rows import values

    row = values() | {"message_id": "A1", "error_kind": None, "error_code": None,
                      "error_message": None, "upstream_status": 202, "retry_after": None,
                      "lease_owner": None}  # fmt: skip
    record = status_record(Event.from_row(row), "read", 1_900_000_000_000, None, None)
    assert DELIVERY_REPORTS["fields"] == list(record)
    assert "to" not in record  # never the recipient's number


@pytest.mark.slow
def test_a_receiver_down_for_a_minute_gets_every_status_afterwards(
    loop: LiveConnector, kaleyra: FakeKaleyra, receivers: dict[str, Receiver]
) -> None:
    """The issue's own figure: a whole minute down while the notifier keeps running."""
    import threading

    messages = [send_from_api(loop, kaleyra, n) for n in range(3)]
    webhook = receivers["webhook"]
    webhook.stop()
    notifier = notifier_of(loop)
    running = threading.Thread(target=notifier.run, daemon=True)
    running.start()
    try:
        kaleyra_cb = callbacks(loop)
        for record in messages:
            kaleyra_cb.template(record, "delivered")
            kaleyra_cb.envelope(record, "read")
        time.sleep(60)
        assert webhook.received == []
        webhook.start()
        got = webhook.wait_for(6, timeout=120)
    finally:
        notifier.stop()
        running.join(timeout=15)
    assert sorted((r.json["event_id"], r.json["status"]) for r in got) == sorted(
        (record.json["extra_info"]["ref"], status)
        for record in messages for status in ("delivered", "read")
    )  # fmt: skip


def send_from_api(connector: LiveConnector, kaleyra: FakeKaleyra, n: int) -> Recorded:
    before = len(kaleyra.sent)
    offer = {"to": "+919876543210", "template_name": "lto_spring", "coupon_code": f"SPRING{n}",
             "expires_in": "2d"}  # fmt: skip
    answer = requests.post(f"{connector.base_url}/v1/messages", json=offer,
                           headers={"X-Api-Key": ACME_KEY}, timeout=10)  # fmt: skip
    assert answer.status_code == 202, answer.text
    assert len(kaleyra.sent) == before + 1
    return kaleyra.sent[-1]


@pytest.mark.parametrize("variant", ["as documented", "json text", "meta entry/changes"])
def test_the_v2_envelope_is_read_as_forwarded(
    loop: LiveConnector, kaleyra: FakeKaleyra, variant: str
) -> None:
    """The documented sample is not valid JSON: a forwarding step may send meta_object and
    extra_info as JSON text, or keep Meta's own entry/changes around the statuses."""
    record = send_from("clevertap", loop, kaleyra)
    ref = record.json["extra_info"]["ref"]
    meta: Any = {"value": {"statuses": [{"id": "wamid.X", "status": "delivered",
                                         "timestamp": "1900000000"}]}}  # fmt: skip
    extra: Any = {"message_id": record.message_id, "ref": ref}
    if variant == "json text":
        meta, extra = json.dumps(meta), json.dumps(extra)
    elif variant == "meta entry/changes":
        meta = {"entry": [{"changes": [{"value": meta["value"], "field": "messages"}]}]}
    answer = requests.post(f"{loop.base_url}/callbacks/kaleyra/acme/{CALLBACK_TOKEN}",
                           json={"meta_object": meta, "extra_info": extra}, timeout=5)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["forward"] == 1
