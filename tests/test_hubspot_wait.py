"""A HubSpot workflow action that waits for the delivery status: BLOCK, its repeats, the final
state, over real HTTP against the loopback Kaleyra. (Kaleyra's delivery reports are written to
the store here as the reports module records them: the status row and the event's furthest.)"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from connector.config import ConfigError, Settings
from connector.hubspot_app import HubSpotApp
from connector.store.schema import events, statuses
from tests.conftest import LiveConnector
from tests.kaleyra_fake import FakeKaleyra
from tests.test_hubspot import fixture, outputs, run_action

PORTAL = 102670506  # the fixture's origin.portalId


def waiting_call(**inputs: Any) -> dict[str, Any]:
    payload = fixture("action-execution.json")
    payload["inputFields"]["wait_for_delivery"] = "yes"
    payload["inputFields"].update(inputs)
    return payload


def report(connector: LiveConnector, event_id: str, status: str, **error: Any) -> None:
    """Kaleyra's report of ``status`` as the store keeps it."""
    with connector.runtime.store.db.write() as conn:
        conn.execute(
            insert(statuses).values(event_id=event_id, status=status, at_ms=1, received_ms=1,
                                    forward=True, fanned_out=True, **error)
        )  # fmt: skip
        conn.execute(update(events).where(events.c.id == event_id).values(delivery_status=status))


def stored(connector: LiveConnector, event_id: str) -> Any:
    with connector.runtime.store.db.read() as conn:
        return conn.execute(select(events).where(events.c.id == event_id)).mappings().one()


def test_waiting_action_sends_once_and_answers_block(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    payload = waiting_call()

    out = outputs(run_action(connector, payload))

    assert out == {"hs_execution_state": "BLOCK", "hs_expiration_duration": "P1D"}
    assert len(kaleyra.requests) == len(kaleyra.sent) == 1
    (event,) = connector.runtime.store.recent(limit=5)
    row = stored(connector, event.id)
    assert row["waits"] is True and row["status"] == "accepted"
    assert row["platform_ref"] == f"{PORTAL}:{payload['callbackId']}"

    # HubSpot repeats the call (same callbackId): still waiting, nothing sent again
    again = outputs(run_action(connector, payload))

    assert again["hs_execution_state"] == "BLOCK"
    assert len(kaleyra.requests) == 1


@pytest.mark.parametrize("status", ["delivered", "read"])
def test_repeat_after_delivery_answers_success_with_the_status(
    connector: LiveConnector, kaleyra: FakeKaleyra, status: str
) -> None:
    payload = waiting_call()
    outputs(run_action(connector, payload))
    (event,) = connector.runtime.store.recent(limit=5)
    report(connector, event.id, "sent")

    assert outputs(run_action(connector, payload))["hs_execution_state"] == "BLOCK"  # not final

    report(connector, event.id, status)
    out = outputs(run_action(connector, payload))

    assert out == {
        "hs_execution_state": "SUCCESS",
        "delivery_status": status,
        "message_id": kaleyra.sent[0].message_id,
        "event_id": event.id,
    }
    assert len(kaleyra.requests) == 1


def test_repeat_after_failure_answers_fail_continue_with_the_reason(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    payload = waiting_call()
    outputs(run_action(connector, payload))
    (event,) = connector.runtime.store.recent(limit=5)
    report(connector, event.id, "failed", error_code="131026", error_reason="Message undeliverable")

    out = outputs(run_action(connector, payload))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "NOT_DELIVERED"  # labelled by the definition's executionRules
    assert out["errorMessage"] == "Message undeliverable"
    assert out["delivery_status"] == "failed"
    assert out["delivery_error_code"] == "131026"
    assert out["delivery_error_reason"] == "Message undeliverable"
    assert len(kaleyra.requests) == 1


def test_not_waiting_is_the_default_and_no_still_succeeds_at_once(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    plain = outputs(run_action(connector, fixture("action-execution.json")))
    other = fixture("action-execution.json")
    other["callbackId"] = "ap-102670506-56776413549-9-0"
    other["inputFields"]["wait_for_delivery"] = "no"
    said_no = outputs(run_action(connector, other))

    assert plain["hs_execution_state"] == said_no["hs_execution_state"] == "SUCCESS"
    assert len(kaleyra.sent) == 2
    assert not any(stored(connector, e.id)["waits"] for e in connector.runtime.store.recent())


def test_kaleyra_refusal_of_a_waiting_offer_fails_at_once(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    kaleyra.then("WA400")

    out = outputs(run_action(connector, waiting_call()))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "KALEYRA_REJECTED"


def test_wait_choice_that_is_not_yes_or_no_is_refused_naming_it(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    out = outputs(run_action(connector, waiting_call(wait_for_delivery="maybe")))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorCode"] == "INVALID_OFFER"
    assert out["errorMessage"] == "wait_for_delivery: Must be yes or no."
    assert kaleyra.requests == []


def test_waiting_without_the_portal_is_refused_naming_it(
    connector: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    payload = waiting_call()
    del payload["origin"]["portalId"]

    out = outputs(run_action(connector, payload))

    assert out["hs_execution_state"] == "FAIL_CONTINUE"
    assert out["errorMessage"].startswith("origin.portalId: ")
    assert kaleyra.requests == []


def test_block_lasts_the_configured_duration(
    start_connector: Callable[..., LiveConnector], kaleyra: FakeKaleyra
) -> None:
    connector = start_connector(hubspot=HubSpotApp(wait_expiration="PT12H"))

    out = outputs(run_action(connector, copy.deepcopy(waiting_call())))

    assert out == {"hs_execution_state": "BLOCK", "hs_expiration_duration": "PT12H"}


def test_settings_name_each_hubspot_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(
            {"HUBSPOT_WAIT_EXPIRATION": "1 day", "HUBSPOT_CLIENT_ID": "app-1",
             "HUBSPOT_CLIENT_SECRET": "s3cret", "CONNECTOR_PUBLIC_URL": "https://lto.example"}
        )  # fmt: skip

    problems = caught.value.problems
    assert any(p.startswith("HUBSPOT_WAIT_EXPIRATION '1 DAY' is not an ISO 8601") for p in problems)
    missing_key = [p for p in problems if "CONNECTOR_TOKEN_KEY" in p]
    assert len(missing_key) == 1 and "\n" not in missing_key[0]
    assert "s3cret" not in str(caught.value)

    with pytest.raises(ConfigError, match="CONNECTOR_TOKEN_KEY is not a Fernet key"):
        Settings.from_env(
            {"HUBSPOT_CLIENT_ID": "app-1", "HUBSPOT_CLIENT_SECRET": "s3cret",
             "CONNECTOR_PUBLIC_URL": "https://lto.example", "CONNECTOR_TOKEN_KEY": "short"}
        )  # fmt: skip
