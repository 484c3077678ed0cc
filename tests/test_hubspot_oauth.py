"""The HubSpot app's install flow, its tokens, and completing a waiting workflow's callback, over
real HTTP: the connector served on loopback, HubSpot played by ``tests/hubspot_fake.py``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import urllib3
from cryptography.fernet import Fernet
from sqlalchemy import select

from connector.hubspot_app import HubSpotApp
from connector.hubspot_oauth import portal_auth
from connector.notify.base import FanOut, Notice
from connector.notify.hubspot import HubSpotTarget
from connector.notify.targets import build_targets
from connector.store import Event
from connector.store.hubspot_tokens import HubSpotTokens
from connector.store.schema import hubspot_tokens
from tests.conftest import HUBSPOT_SECRET, LiveConnector
from tests.hubspot_fake import CLIENT_ID, FakeHubSpot
from tests.kaleyra_fake import FakeKaleyra
from tests.test_hubspot import ACTION, encode, fixture, outputs, send, signed

PUBLIC = "http://lto.example.test"  # CONNECTOR_PUBLIC_URL: what HubSpot redirects to and signs
PORTAL = 102670506  # the action fixture's origin.portalId
KEY = Fernet.generate_key().decode()


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(client_secret=HUBSPOT_SECRET)
    yield fake
    fake.stop()


@pytest.fixture
def app_connector(
    start_connector: Callable[..., LiveConnector], hubspot: FakeHubSpot
) -> LiveConnector:
    """The connector with the HubSpot app configured against the loopback HubSpot."""
    app = HubSpotApp(
        client_id=CLIENT_ID,
        api_base=hubspot.base_url,
        authorize_url=hubspot.base_url + "/oauth/authorize",
        token_key=KEY,
    )
    return start_connector(public_url=PUBLIC, hubspot=app)


def start_install(connector: LiveConnector, browser: requests.Session) -> dict[str, str]:
    """The user opens the install link: the query of HubSpot's consent page it redirects to."""
    answer = browser.get(connector.base_url + "/oauth/hubspot/install", allow_redirects=False)
    assert answer.status_code == 302, answer.text
    return dict(parse_qsl(urlsplit(answer.headers["Location"]).query))


def back_from_hubspot(
    connector: LiveConnector, browser: requests.Session, **params: str
) -> requests.Response:
    """HubSpot sends the browser back to the connector's callback with ``params``."""
    return browser.get(connector.base_url + "/oauth/hubspot/callback", params=params,
                       allow_redirects=False)  # fmt: skip


def install(connector: LiveConnector, hubspot: FakeHubSpot, portal: int = PORTAL) -> str:
    """The whole flow in one browser; the portal's access token HubSpot issued."""
    browser = requests.Session()
    query = start_install(connector, browser)
    code = hubspot.authorize(query, portal)
    page = back_from_hubspot(connector, browser, code=code, state=query["state"])
    assert page.status_code == 200, page.text
    token = hubspot.token_of(portal)
    assert token is not None
    return token


def stored_row(connector: LiveConnector, portal: int = PORTAL) -> Any:
    query = select(hubspot_tokens).where(hubspot_tokens.c.portal_id == portal)
    with connector.runtime.store.db.read() as conn:
        return conn.execute(query).mappings().one_or_none()


# --- install --------------------------------------------------------------------------------


def test_install_sends_the_user_to_hubspots_consent_page(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    browser = requests.Session()
    answer = browser.get(app_connector.base_url + "/oauth/hubspot/install", allow_redirects=False)

    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(hubspot.base_url + "/oauth/authorize?")
    query = dict(parse_qsl(urlsplit(location).query))
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == PUBLIC + "/oauth/hubspot/callback"
    assert "automation" in query["scope"].split()
    assert query["state"]
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/oauth/hubspot" in cookie


def test_install_exchanges_the_code_and_stores_the_tokens_encrypted(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    browser = requests.Session()
    query = start_install(app_connector, browser)
    code = hubspot.authorize(query, PORTAL)

    page = back_from_hubspot(app_connector, browser, code=code, state=query["state"])

    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"HubSpot portal {PORTAL} is connected" in page.text
    exchange = next(r for r in hubspot.requests if r.path == "/oauth/v1/token")
    assert exchange.form == {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": PUBLIC + "/oauth/hubspot/callback",
        "client_id": CLIENT_ID,
        "client_secret": HUBSPOT_SECRET,
    }
    access = hubspot.token_of(PORTAL)
    assert access is not None
    refresh = exchange_refresh_token(hubspot)
    row = stored_row(app_connector)
    assert row is not None
    for secret in (access, refresh):
        assert secret not in row["access_token"] and secret not in row["refresh_token"]
        assert secret not in page.text
    assert Fernet(KEY).decrypt(row["access_token"].encode()).decode() == access
    assert Fernet(KEY).decrypt(row["refresh_token"].encode()).decode() == refresh
    # the state was for this one installation: its cookie is cleared
    assert "lto_hubspot_oauth" not in browser.cookies


def exchange_refresh_token(hubspot: FakeHubSpot) -> str:
    return next(t for t, p in hubspot.refresh.items() if p == PORTAL)


def test_forged_state_is_refused_before_any_exchange(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    browser = requests.Session()
    query = start_install(app_connector, browser)
    code = hubspot.authorize(query, PORTAL)
    callback = app_connector.base_url + "/oauth/hubspot/callback"

    forged = browser.get(callback, params={"code": code, "state": query["state"][:-2] + "xx"})
    elsewhere = requests.get(callback, params={"code": code, "state": query["state"]})  # no cookie
    missing = browser.get(callback, params={"code": code})

    for answer in (forged, elsewhere):
        assert answer.status_code == 400
        body = answer.json()
        assert body["code"] == "invalid_state"
        assert list(body["errors"]) == ["state"]
        assert "/oauth/hubspot/install" in body["message"]
    assert "issued to another browser" in elsewhere.json()["message"]
    assert missing.status_code == 422 and list(missing.json()["errors"]) == ["state"]
    assert not any(r.path == "/oauth/v1/token" for r in hubspot.requests)
    assert stored_row(app_connector) is None


def test_user_declining_on_hubspot_is_a_clear_refusal(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    browser = requests.Session()
    query = start_install(app_connector, browser)

    declined = {"error": "access_denied", "error_description": "The user declined"}
    answer = back_from_hubspot(app_connector, browser, **declined, state=query["state"])

    assert answer.status_code == 400
    assert answer.json()["code"] == "hubspot_install_refused"
    assert "The user declined" in answer.json()["message"]


def test_a_code_hubspot_does_not_know_is_its_refusal_not_a_500(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    browser = requests.Session()
    query = start_install(app_connector, browser)

    answer = back_from_hubspot(app_connector, browser, code="never-issued", state=query["state"])

    assert answer.status_code == 502
    assert answer.json()["code"] == "hubspot_oauth_failed"
    assert "BAD_AUTH_CODE" in answer.json()["message"]
    assert HUBSPOT_SECRET not in answer.text
    assert stored_row(app_connector) is None


def test_without_the_app_configured_the_routes_say_what_to_set(connector: LiveConnector) -> None:
    answer = requests.get(connector.base_url + "/oauth/hubspot/install", allow_redirects=False)

    assert answer.status_code == 503
    assert answer.json()["code"] == "not_configured"
    assert "HUBSPOT_CLIENT_ID" in answer.json()["message"]


# --- tokens ---------------------------------------------------------------------------------


def auth_at(connector: LiveConnector, now_ms: int) -> Any:
    auth = portal_auth(connector.settings, connector.runtime.store.db, urllib3.PoolManager(),
                       lambda: now_ms)  # fmt: skip
    assert auth is not None
    return auth


def test_an_expired_access_token_is_refreshed_and_the_new_pair_stored(
    app_connector: LiveConnector, hubspot: FakeHubSpot
) -> None:
    first = install(app_connector, hubspot)
    expires_ms = stored_row(app_connector)["expires_ms"]
    refreshes = lambda: [r for r in hubspot.requests if r.form.get("grant_type") == "refresh_token"]  # noqa: E731

    assert auth_at(app_connector, expires_ms - 61_000).access_token(PORTAL) == first
    assert refreshes() == []

    fresh = auth_at(app_connector, expires_ms - 59_000).access_token(PORTAL)  # within a minute

    assert fresh != first and hubspot.access[fresh] == PORTAL
    (refresh,) = refreshes()
    assert refresh.form["refresh_token"] == exchange_refresh_token(hubspot)
    assert refresh.form["client_id"] == CLIENT_ID
    assert refresh.form["client_secret"] == HUBSPOT_SECRET
    row = stored_row(app_connector)
    assert row["expires_ms"] > expires_ms
    cipher = app_connector.settings.hubspot.fernet()
    tokens = HubSpotTokens(app_connector.runtime.store.db, cipher).get(PORTAL)
    assert tokens is not None and tokens.access_token == fresh
    assert fresh not in row["access_token"]


# --- completing the callback ----------------------------------------------------------------


def waiting_event(connector: LiveConnector, callback_id: str | None = None) -> Event:
    """A HubSpot action call that waits for delivery (signed over the public URL), accepted."""
    payload = fixture("action-execution.json")
    payload["inputFields"]["wait_for_delivery"] = "yes"
    if callback_id:
        payload["callbackId"] = callback_id
    body = encode(payload)
    answer = send(connector.base_url + ACTION, body, signed(PUBLIC + ACTION, body))
    assert outputs(answer)["hs_execution_state"] == "BLOCK"
    event = next(e for e in connector.runtime.store.recent() if e.platform_ref
                 and e.platform_ref.endswith(payload["callbackId"]))  # fmt: skip
    return event


def notice(connector: LiveConnector, event: Event, status: str, **error: Any) -> Notice:
    return Notice(
        id=1,
        target="hubspot",
        status=status,
        at_ms=1_800_000_000_000,
        error_code=error.get("code"),
        error_reason=error.get("reason"),
        event=event,
        connection=connector.runtime.default_tenant.connection,
        attempt=1,
    )


def target_of(connector: LiveConnector) -> HubSpotTarget:
    targets = build_targets(connector.runtime.store, connector.settings)
    found = next(t for t in targets if t.name == "hubspot")
    assert isinstance(found, HubSpotTarget) and found.once_per_message
    return found


def test_delivered_completes_the_waiting_workflow_with_success(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    token = install(app_connector, hubspot)
    event = waiting_event(app_connector)

    outcome = target_of(app_connector).send(notice(app_connector, event, "delivered"),
                                            urllib3.PoolManager())  # fmt: skip

    assert outcome.state == "done", outcome
    (done,) = hubspot.completed
    assert done.callback_id == fixture("action-execution.json")["callbackId"]
    assert done.portal_id == PORTAL
    assert done.body == {"outputFields": {"hs_execution_state": "SUCCESS",
                                          "delivery_status": "delivered",
                                          "message_id": kaleyra.sent[0].message_id,
                                          "event_id": event.id}}  # fmt: skip
    complete = next(r for r in hubspot.requests if r.path.endswith("/complete"))
    assert complete.headers["Authorization"] == f"Bearer {token}"
    assert complete.headers["Content-Type"] == "application/json"


def test_failed_completes_with_fail_continue_and_the_reason(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    install(app_connector, hubspot)
    event = waiting_event(app_connector)
    failed = notice(app_connector, event, "failed", code="131026", reason="Message undeliverable")

    outcome = target_of(app_connector).send(failed, urllib3.PoolManager())

    assert outcome.state == "done"
    fields = hubspot.completed[0].body["outputFields"]
    assert fields["hs_execution_state"] == "FAIL_CONTINUE"
    assert fields["errorCode"] == "NOT_DELIVERED"
    assert fields["delivery_status"] == "failed"
    assert fields["delivery_error_code"] == "131026"
    assert fields["delivery_error_reason"] == "Message undeliverable"


def test_a_401_refreshes_the_token_once_and_completes(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    old = install(app_connector, hubspot)
    event = waiting_event(app_connector)
    hubspot.expire(old)  # revoked early: the store still thinks it is good

    outcome = target_of(app_connector).send(notice(app_connector, event, "read"),
                                            urllib3.PoolManager())  # fmt: skip

    assert outcome.state == "done"
    assert len(hubspot.completed) == 1
    calls = [r.form.get("grant_type") or r.path.rsplit("/", 1)[1] for r in hubspot.requests
             if r.method == "POST"][-3:]  # fmt: skip
    assert calls == ["complete", "refresh_token", "complete"]


def test_expired_callback_is_gone_and_hubspot_outage_is_retried(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    install(app_connector, hubspot)
    event = waiting_event(app_connector)
    target, http = target_of(app_connector), urllib3.PoolManager()

    hubspot.answers.append(503)
    assert target.send(notice(app_connector, event, "delivered"), http).state == "retry"

    hubspot.gone_callbacks.add(event.platform_ref.split(":", 1)[1])  # type: ignore[union-attr]
    assert target.send(notice(app_connector, event, "delivered"), http).state == "gone"
    assert hubspot.completed == []


def test_a_portal_that_never_installed_the_app_fails_saying_so(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    event = waiting_event(app_connector)

    outcome = target_of(app_connector).send(notice(app_connector, event, "delivered"),
                                            urllib3.PoolManager())  # fmt: skip

    assert outcome.state == "failed"
    assert f"HubSpot portal {PORTAL} has not installed the app" in (outcome.error or "")
    assert not any(r.path.endswith("/complete") for r in hubspot.requests)


def test_only_a_waiting_actions_final_status_is_owed(
    app_connector: LiveConnector, hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    target = target_of(app_connector)
    waiting = waiting_event(app_connector)
    plain = fixture("action-execution.json")
    plain["callbackId"] = "ap-102670506-56776413549-11-0"
    body = encode(plain)
    outputs(send(app_connector.base_url + ACTION, body, signed(PUBLIC + ACTION, body)))
    not_waiting = next(e for e in app_connector.runtime.store.recent() if not e.waits)
    connection = app_connector.runtime.default_tenant.connection

    owed = {
        status: target.targets_for(waiting, connection, status, FanOut())
        for status in ("sent", "delivered", "read", "failed", "not-sent")
    }

    assert owed == {"sent": [], "delivered": ["hubspot"], "read": ["hubspot"],
                    "failed": ["hubspot"], "not-sent": ["hubspot"]}  # fmt: skip
    assert target.targets_for(not_waiting, connection, "delivered", FanOut()) == []
    assert json.dumps(owed)  # plain data, as fan-out stores it


def test_kaleyras_delivered_then_read_completes_the_workflow_once_end_to_end(
    start_connector: Callable[..., LiveConnector], hubspot: FakeHubSpot, kaleyra: FakeKaleyra
) -> None:
    """The offer comes in from the waiting action, Kaleyra sends it and reports delivered then
    read (both shapes), and HubSpot's callbacks API is called once, with the status."""
    from connector.notify.notifier import build_notifier
    from connector.reports.settings import Reports
    from tests.status_loop import CALLBACK_TOKEN, KaleyraCallbacks

    app = HubSpotApp(
        client_id=CLIENT_ID,
        api_base=hubspot.base_url,
        authorize_url=hubspot.base_url + "/oauth/authorize",
        token_key=KEY,
    )
    connector = start_connector(public_url=PUBLIC, hubspot=app,
                                reports=Reports(callback_token=CALLBACK_TOKEN))  # fmt: skip
    install(connector, hubspot)
    event = waiting_event(connector)
    (record,) = kaleyra.sent
    callbacks = KaleyraCallbacks(f"{connector.base_url}/callbacks/kaleyra/default/{CALLBACK_TOKEN}")
    assert callbacks.template(record, "delivered").json()["forward"] == 1
    assert callbacks.envelope(record, "read").json()["forward"] == 1
    build_notifier(connector.runtime).drain()

    (done,) = hubspot.completed  # read does not complete it again
    assert done.body["outputFields"]["hs_execution_state"] == "SUCCESS"
    assert done.body["outputFields"]["delivery_status"] == "delivered"
    assert done.body["outputFields"]["event_id"] == event.id
    payload = fixture("action-execution.json")
    payload["inputFields"]["wait_for_delivery"] = "yes"
    body = encode(payload)
    again = outputs(send(connector.base_url + ACTION, body, signed(PUBLIC + ACTION, body)))
    assert again["hs_execution_state"] == "SUCCESS"  # HubSpot's repeat: the final state
    assert len(kaleyra.requests) == 1  # and nothing sent twice
