"""POST /v1/messages over real HTTP, with the loopback Kaleyra behind it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CONNECTOR_KEY, POSTGRES_ADMIN_URL, LiveConnector, offer
from tests.kaleyra_fake import FakeKaleyra
from tests.test_payload import page_sample


def test_accepted_offer_is_relayed_exactly(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    future_ms = 1_926_201_600_000  # 2031-01-15
    response = connector.post("/v1/messages", json=offer(expires_in=None, expires_at=future_ms))
    assert response.status_code == 202, response.text
    body = response.json()
    [request] = kaleyra.sent
    assert body == {
        "id": body["id"],
        "status": "accepted",
        "message_id": request.message_id,
        "wa_source": "api",
        "sandbox": False,
        "replayed": False,
    }
    assert body["id"].startswith("evt_")
    assert request.json == page_sample(future_ms)


@pytest.mark.parametrize(
    "headers",
    [{"Authorization": f"Bearer {CONNECTOR_KEY}"}, {"X-Api-Key": CONNECTOR_KEY},
     {"authorization": f"bearer {CONNECTOR_KEY}"}],
)  # fmt: skip
def test_api_key_in_either_header(connector: LiveConnector, headers: dict[str, str]) -> None:
    assert (
        connector.post("/v1/messages", key=None, headers=headers, json=offer()).status_code == 202
    )


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": "wrong"}, {"Authorization": "Basic abc"}])
def test_missing_or_wrong_key_is_401(
    connector: LiveConnector, kaleyra: FakeKaleyra, headers: dict[str, str]
) -> None:
    response = connector.post("/v1/messages", key=None, headers=headers, json=offer())
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert kaleyra.requests == []


def test_bad_input_is_422_naming_every_field(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    response = connector.post(
        "/v1/messages", json=offer(to="555", coupon_code="X" * 20, language="EN")
    )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_phone" and body["status"] == 422
    assert set(body["errors"]) == {"to", "coupon_code", "language"}
    assert body["errors"]["coupon_code"] == [
        {"code": "too_long", "message": "Must be at most 15 characters (got 20)."}
    ]
    assert kaleyra.requests == []


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [(b"{not json", 400, "malformed_body"), (b"", 400, "malformed_body"),
     (b"[1, 2]", 422, "malformed_body")],
)  # fmt: skip
def test_malformed_bodies(connector: LiveConnector, data: bytes, status: int, code: str) -> None:
    response = connector.post(
        "/v1/messages", data=data, headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (status, code)


def test_oversized_body_and_unknown_routes_answer_json(connector: LiveConnector) -> None:
    big = connector.post("/v1/messages", data=b"x" * (1024 * 1024 + 1))
    assert big.status_code == 413 and big.json()["status"] == 413
    missing = connector.get("/v1/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong_method = connector.get("/v1/messages")
    assert wrong_method.status_code == 405


@pytest.mark.parametrize(
    ("scripted", "status", "code"),
    [
        ("RBC001", 401, "kaleyra_auth_failed"),
        ("WA401", 403, "kaleyra_sender_not_on_account"),
        ("WA-401-account", 403, "kaleyra_api_not_enabled"),
        ("WA-401-version", 403, "kaleyra_wrong_api_version"),
        ("E110", 402, "kaleyra_low_balance"),
        ("WA400", 422, "kaleyra_rejected"),
    ],
)
def test_kaleyra_refusals_get_honest_statuses(
    connector: LiveConnector, kaleyra: FakeKaleyra, scripted: str, status: int, code: str
) -> None:
    kaleyra.then(scripted)
    response = connector.post("/v1/messages", json=offer())
    assert response.status_code == status
    body = response.json()
    assert body["code"] == code
    assert body["kaleyra_code"] == scripted.split("-account")[0].split("-version")[0]
    assert body["id"].startswith("evt_")
    assert "Retry-After" not in response.headers


def test_kaleyra_unavailable_is_503_with_retry_after_and_a_retry_sends(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    kaleyra.then("WA500")
    first = connector.post("/v1/messages", json=offer())
    assert first.status_code == 503 and first.json()["code"] == "kaleyra_unavailable"
    assert first.headers["Retry-After"].isdigit()
    again = connector.post("/v1/messages", json=offer())
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]  # the same event, attempted again
    assert len(kaleyra.requests) == 2 and len(kaleyra.sent) == 1


def test_kaleyra_429_keeps_its_retry_after(connector: LiveConnector, kaleyra: FakeKaleyra) -> None:
    kaleyra.then("raw", status=429, body={"message": "slow"}, headers={"Retry-After": "12"})
    response = connector.post("/v1/messages", json=offer())
    assert response.status_code == 429 and response.headers["Retry-After"] == "12"


def test_unanswered_send_is_uncertain_and_never_resent(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    connector = start_connector(read_timeout=0.3)
    kaleyra.then("hang")
    first = connector.post("/v1/messages", json=offer())
    assert first.status_code == 504
    assert first.json()["code"] == "delivery_uncertain"
    assert "not resent automatically" in first.json()["message"]
    again = connector.post("/v1/messages", json=offer())
    assert again.status_code == 504 and again.json()["id"] == first.json()["id"]
    assert len(kaleyra.requests) == 1


def test_unreachable_kaleyra_is_503(start_connector: Callable[..., LiveConnector]) -> None:
    connector = start_connector(kaleyra_base_url="http://127.0.0.1:9/v2/x")
    response = connector.post("/v1/messages", json=offer())
    assert response.status_code == 503 and response.json()["code"] == "kaleyra_unreachable"
    assert response.headers["Retry-After"] == "30"


def test_repeat_returns_the_first_outcome_and_sends_nothing(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    first = connector.post("/v1/messages", json=offer())
    again = connector.post("/v1/messages", json=offer())
    assert again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["message_id"] == first.json()["message_id"]
    assert again.json()["replayed"] is True and again.headers["Idempotent-Replayed"] == "true"
    assert len(kaleyra.requests) == 1


def test_a_different_offer_is_a_different_message(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    connector.post("/v1/messages", json=offer())
    connector.post("/v1/messages", json=offer(coupon_code="OTHER"))
    connector.post("/v1/messages", json=offer(to="+919876543211"))
    assert len(kaleyra.sent) == 3


def test_idempotency_key_sends_once_and_rejects_reuse_for_another_offer(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    first = connector.post("/v1/messages", json=offer(idempotency_key="order-42"))
    header = connector.post("/v1/messages", json=offer(), headers={"Idempotency-Key": "order-42"})
    assert header.json()["id"] == first.json()["id"]
    reused = connector.post(
        "/v1/messages", json=offer(coupon_code="NEW", idempotency_key="order-42")
    )
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_conflict"
    assert len(kaleyra.requests) == 1


def test_same_offer_with_new_keys_is_sent_again(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    connector.post("/v1/messages", json=offer(idempotency_key="a"))
    connector.post("/v1/messages", json=offer(idempotency_key="b"))
    assert len(kaleyra.sent) == 2


def test_content_dedupe_expires_after_its_window(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    connector = start_connector(dedupe_window_s=0)
    first = connector.post("/v1/messages", json=offer())
    again = connector.post("/v1/messages", json=offer())
    assert first.json()["id"] != again.json()["id"]
    assert len(kaleyra.sent) == 2


def test_sandbox_mode_says_so_and_sends_nothing(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    connector = start_connector(sandbox=True, api_keys=())
    response = connector.post("/v1/messages", key=None, json=offer())
    assert response.status_code == 202
    assert response.json()["sandbox"] is True
    assert response.json()["message_id"].startswith("sandbox-")
    assert connector.get("/readyz").json()["sandbox"] is True
    assert kaleyra.requests == []


def test_health_readiness_and_openapi(connector: LiveConnector) -> None:
    assert connector.get("/healthz").json() == {"status": "ok"}
    ready = connector.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"store": "ok", "upstream": "kaleyra"}
    spec = connector.get("/openapi.json").json()
    assert "/v1/messages" in spec["paths"] and "/hooks/hubspot/action" in spec["paths"]


def test_readyz_fails_when_the_database_goes_away(
    start_connector: Callable[..., LiveConnector], pg_url: str
) -> None:
    connector = start_connector(database_url=pg_url)
    assert connector.get("/readyz").status_code == 200
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{pg_url.rsplit("/", 1)[1]}" WITH (FORCE)'))
    admin.dispose()
    ready = connector.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["store"].startswith("unreachable")


def test_deeply_nested_json_is_a_400_not_a_crash(connector: LiveConnector) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = connector.post(
        "/v1/messages", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400 and response.json()["code"] == "malformed_body"


def test_every_sandbox_answer_says_sandbox(start_connector: Callable[..., LiveConnector]) -> None:
    connector = start_connector(sandbox=True, api_keys=())
    assert connector.get("/healthz").json()["sandbox"] is True
    refused = connector.post("/v1/messages", key=None, json=offer(to="12"))
    assert refused.status_code == 422 and refused.json()["sandbox"] is True
