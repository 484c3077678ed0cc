"""The Kaleyra client against a real loopback server speaking the API page."""

from __future__ import annotations

import json
import socket

import pytest

from connector.kaleyra import KaleyraClient, SandboxClient, build_request
from connector.kaleyra import errors as ke
from connector.kaleyra.client import base_url_for
from tests.kaleyra_fake import API_KEY, SENDER, SID, FakeKaleyra
from tests.test_payload import sample_offer


def client_for(fake: FakeKaleyra, **kwargs: object) -> KaleyraClient:
    options: dict[str, object] = {"read_timeout": 1.0, "connect_timeout": 1.0}
    options.update(kwargs)
    return KaleyraClient(base_url=fake.base_url, api_key=API_KEY, sender=SENDER, **options)  # type: ignore[arg-type]


PAYLOAD = build_request(sample_offer(), "api")


def test_send_makes_the_documented_request(kaleyra: FakeKaleyra) -> None:
    result = client_for(kaleyra).send(PAYLOAD)
    assert result.status == 202 and result.code == "WA202"
    assert result.message_id.startswith("A") and not result.sandbox
    [request] = kaleyra.requests
    assert request.path == f"/v2/{SID}/whatsapp/{SENDER}/messages"
    assert request.headers["api-key"] == API_KEY
    assert request.headers["Content-Type"] == "application/json"
    assert request.json == PAYLOAD
    assert request.accepted


def test_pod_urls() -> None:
    assert base_url_for("in", "S1") == "https://api.in.kaleyra.io/v2/S1"
    assert base_url_for("AP", "S1") == "https://api.ap.kaleyra.io/v2/S1"
    assert base_url_for("eu", "S1") == "https://api.eu.kaleyra.io/v2/S1"
    with pytest.raises(ValueError, match="KALEYRA_POD"):
        base_url_for("us", "S1")


@pytest.mark.parametrize(
    ("scripted", "error_type", "status", "code"),
    [
        ("RBC001", ke.AuthenticationFailed, 401, "RBC001"),
        ("WA401", ke.SenderNotOnAccount, 401, "WA401"),
        ("WA400", ke.PayloadRejected, 400, "WA400"),
        ("WA500", ke.UpstreamUnavailable, 500, "WA500"),
        ("E110", ke.LowBalance, 400, "E110"),
        ("WA-401-account", ke.ApiNotEnabled, 401, "WA-401"),
        ("WA-401-version", ke.WrongApiVersion, 401, "WA-401"),
    ],
)
def test_each_documented_failure_has_its_own_type(
    kaleyra: FakeKaleyra, scripted: str, error_type: type, status: int, code: str
) -> None:
    kaleyra.then(scripted)
    with pytest.raises(error_type) as info:
        client_for(kaleyra).send(PAYLOAD)
    assert (info.value.status, info.value.code) == (status, code)
    assert info.value.body["code"] == code
    assert info.value.message


def test_wrong_credentials_are_detected_by_the_fake_itself(kaleyra: FakeKaleyra) -> None:
    bad = KaleyraClient(base_url=kaleyra.base_url, api_key="wrong", sender=SENDER)
    with pytest.raises(ke.AuthenticationFailed):
        bad.send(PAYLOAD)
    other_sender = KaleyraClient(base_url=kaleyra.base_url, api_key=API_KEY, sender="+14155552671")
    with pytest.raises(ke.SenderNotOnAccount):
        other_sender.send(PAYLOAD)


def test_429_and_non_json_5xx(kaleyra: FakeKaleyra) -> None:
    kaleyra.then("raw", status=429, body={"message": "slow down"}, headers={"Retry-After": "7"})
    kaleyra.then("raw", status=502, body="<html>bad gateway</html>")
    client = client_for(kaleyra)
    with pytest.raises(ke.RateLimited) as limited:
        client.send(PAYLOAD)
    assert limited.value.retry_after == 7
    with pytest.raises(ke.UpstreamUnavailable) as unavailable:
        client.send(PAYLOAD)
    assert unavailable.value.status == 502


def test_no_answer_in_time_is_uncertain_not_unreachable(kaleyra: FakeKaleyra) -> None:
    kaleyra.then("hang")
    with pytest.raises(ke.KaleyraUncertain, match="may have been sent"):
        client_for(kaleyra, read_timeout=0.3).send(PAYLOAD)


def test_connection_reset_after_sending_is_uncertain(kaleyra: FakeKaleyra) -> None:
    kaleyra.then("reset")
    with pytest.raises(ke.KaleyraUncertain):
        client_for(kaleyra).send(PAYLOAD)
    assert len(kaleyra.requests) == 1  # the request did arrive


def test_refused_connection_is_unreachable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = KaleyraClient(
        base_url=f"http://127.0.0.1:{port}/v2/{SID}", api_key=API_KEY, sender=SENDER
    )
    with pytest.raises(ke.KaleyraUnreachable, match="could not be reached"):
        client.send(PAYLOAD)


def test_success_without_message_id_is_uncertain(kaleyra: FakeKaleyra) -> None:
    kaleyra.then("raw", status=202, body={"code": "WA202", "data": {}})
    with pytest.raises(ke.KaleyraUncertain):
        client_for(kaleyra).send(PAYLOAD)


def test_one_pooled_connection_serves_many_sends(kaleyra: FakeKaleyra) -> None:
    client = client_for(kaleyra)
    ids = {client.send(PAYLOAD).message_id for _ in range(5)}
    assert len(ids) == 5
    assert kaleyra.connections == 1


def test_describe_masks_the_api_key(kaleyra: FakeKaleyra) -> None:
    described = client_for(kaleyra).describe(PAYLOAD)
    assert described["headers"]["api-key"] == "****"
    assert API_KEY not in json.dumps(described)
    assert described["url"].endswith(f"/whatsapp/{SENDER}/messages")


def test_sandbox_validates_like_the_api_and_sends_nothing() -> None:
    sandbox = SandboxClient()
    result = sandbox.send(PAYLOAD)
    assert result.sandbox and result.message_id.startswith("sandbox-")
    broken = json.loads(json.dumps(PAYLOAD))
    del broken["messaging_object"]["to"]
    broken["extra_info"]["wa_source"] = "custom"
    with pytest.raises(ke.PayloadRejected) as info:
        sandbox.send(broken)
    assert info.value.code == "WA400"
    assert "to" in info.value.body["error"]["payload"]["messaging_object"]


def test_a_payload_that_cannot_be_encoded_is_refused_before_sending(kaleyra: FakeKaleyra) -> None:
    """A payload stored before the door refused lone surrogates: a dead letter with its
    reason (the failure table's unencodable), never an exception that kills a worker."""
    payload = json.loads(json.dumps(PAYLOAD))
    payload["extra_info"]["ref"] = "cut \ud83d"
    with pytest.raises(ke.Unencodable, match="UTF-8"):
        client_for(kaleyra).send(payload)
    assert kaleyra.requests == []
