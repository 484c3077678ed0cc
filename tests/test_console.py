"""The operator console over HTTP: sign-in, sessions, CSRF, the failed-attempt limit, who sees
what, masking, confirmations, and issue 12's tables read once they exist. Real app, real socket."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from sqlalchemy import update

from connector.config import ConfigError
from connector.logs import JsonFormatter
from connector.outcomes import FAILURES
from connector.reports.parse import StatusReport
from connector.store.queue_ops import QueueOp
from connector.store.schema import events
from connector.web.console.explain import MEANING
from connector.web.console.session import ConsoleSettings
from tests.conftest import LiveConnector, deliver_queued, offer
from tests.console_site import (
    ACME_CONSOLE,
    ADMIN_KEY,
    DIGITS,
    NUMBER,
    OTHER_CONSOLE,
    ConsoleClient,
    dead_letter,
    paused_account,
    queue_offer,
    start_site,
)
from tests.kaleyra_fake import API_KEY, FakeKaleyra
from tests.platform_cases import ACME_KEY

Starter = Callable[..., LiveConnector]


@pytest.fixture
def start(
    start_connector: Starter, kaleyra: FakeKaleyra, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Starter:
    return lambda **overrides: start_site(
        start_connector, kaleyra, tmp_path, monkeypatch, **overrides
    )


@pytest.fixture
def site(start: Starter) -> LiveConnector:
    return start()


def signed_in(site: LiveConnector, key: str = ADMIN_KEY) -> ConsoleClient:
    client = ConsoleClient(site)
    client.sign_in(key)
    return client


def test_every_console_page_has_the_security_headers_and_no_inline_code(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    event_id = dead_letter(site, kaleyra)
    client = ConsoleClient(site)
    pages = [client.page("/sign-in")]
    client.sign_in(ADMIN_KEY)
    for path in ("/messages", f"/messages/{event_id}", "/try", "/health", "/messages/evt_nope"):
        pages.append(client.page(path))
    pages.append(client.get(site.base_url + "/console/static/console.css"))
    assert [p.status_code for p in pages] == [200, 200, 200, 200, 200, 404, 200]
    for page in pages:
        headers = page.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Content-Type-Options"] == "nosniff"
        if page.headers["Content-Type"].startswith("text/html"):
            assert headers["Cache-Control"] == "no-store"
            assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), page.url
            assert not re.search(r"\s(style|on[a-z]+)=", page.text), page.url
            loads = re.findall(r'\s(?:src|href|action)="([^"]*)"', page.text)
            assert loads and all(link.startswith(("/", "#", "data:")) for link in loads), loads
    assert "Content-Security-Policy" not in site.get("/healthz").headers  # the API is untouched


def test_the_session_cookie_is_httponly_strict_and_secure_over_https(site: LiveConnector) -> None:
    plain = requests.get(site.base_url + "/sign-in", timeout=10)
    cookie = plain.headers["Set-Cookie"]
    assert cookie.startswith("lto_console=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and "Secure" not in cookie
    proxied = requests.get(
        site.base_url + "/sign-in", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )
    assert "; Secure" in proxied.headers["Set-Cookie"]
    # a session holds no key, only an HMAC fingerprint of its digest
    client = signed_in(site)
    assert ADMIN_KEY not in str(client.cookies.get("lto_console"))


def test_forms_need_their_csrf_token_and_this_site_as_origin(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    event_id = dead_letter(site, kaleyra)
    client = signed_in(site, ACME_CONSOLE)
    replay = f"/messages/{event_id}/replay"
    client.page(f"/messages/{event_id}")
    missing = client.post(site.base_url + replay, data={}, timeout=10)
    assert missing.status_code == 400 and "CSRF" in missing.text
    stranger = signed_in(site, ADMIN_KEY)  # a valid token, of another session
    client.token = stranger.token
    assert client.submit(replay).status_code == 400
    client.page(f"/messages/{event_id}")
    other_site = client.submit(replay, headers={"Origin": "https://evil.example"})
    assert other_site.status_code == 403
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "dead"
    client.page(f"/messages/{event_id}")
    assert client.submit(replay).status_code == 200  # the real form works
    assert site.runtime.store.get(event_id).status == "queued"  # type: ignore[union-attr]
    anonymous = requests.post(site.base_url + "/sign-in", data={"key": ADMIN_KEY}, timeout=10)
    assert anonymous.status_code == 400  # even signing in needs the form's token


def test_failed_sign_ins_are_limited_per_address_across_processes(
    start: Starter, tmp_path: Path
) -> None:
    shared = f"sqlite:///{tmp_path}/shared.db"
    first, second = start(database_url=shared), start(database_url=shared)
    for n in range(5):
        client = ConsoleClient(first if n % 2 else second)
        client.page("/sign-in")
        refused = client.submit("/sign-in", {"key": f"wrong-key-{n}"})
        assert refused.status_code == 401 and "not an admin key" in refused.text
    client = ConsoleClient(first)
    client.page("/sign-in")
    limited = client.submit("/sign-in", {"key": ADMIN_KEY})  # even the right key, for now
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    elsewhere = ConsoleClient(second)  # another address (through the trusted proxy hop)
    elsewhere.headers["X-Forwarded-For"] = "203.0.113.7"
    elsewhere.sign_in(ADMIN_KEY)


def test_one_session_key_for_every_process_on_one_store(
    start: Starter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = f"sqlite:///{tmp_path}/shared.db"
    first, second = start(database_url=shared), start(database_url=shared)
    client = signed_in(first)
    client.site = second  # the same cookie, answered by another "worker"
    assert client.page("/health").url.endswith("/health")
    assert client.submit("/sign-out").url.endswith("/sign-in")  # its CSRF token holds too

    monkeypatch.setenv("CONNECTOR_SECRET_KEY", "s" * 40)
    third = start(database_url=shared)
    client = signed_in(first)
    client.site = third  # another key: that session is not valid there
    assert client.page("/messages").url.endswith("/sign-in?next=/messages?")
    with pytest.raises(ConfigError, match="CONNECTOR_SECRET_KEY must be at least 32"):
        ConsoleSettings.from_env({"CONNECTOR_SECRET_KEY": "short"})


def test_a_removed_key_ends_its_sessions(start: Starter, tmp_path: Path) -> None:
    shared = f"sqlite:///{tmp_path}/shared.db"
    client = signed_in(start(database_url=shared), ACME_CONSOLE)
    restarted = start(database_url=shared, admin_keys=("another-admin-key-000000",))
    client.site = restarted  # acme's console key is still configured: still signed in
    assert client.page("/messages").url.endswith("/messages")
    admin = signed_in(start(database_url=shared))
    admin.site = restarted  # the admin key it signed in with is gone
    assert "/sign-in" in admin.page("/messages").url


def test_a_connection_sees_only_its_own_messages_and_account(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    theirs = dead_letter(site, kaleyra)
    paused_account(site, kaleyra)
    other = signed_in(site, OTHER_CONSOLE)
    listed = other.page("/messages")
    assert theirs not in listed.text and "No messages match" in listed.text
    assert other.page(f"/messages/{theirs}").status_code == 404
    assert other.page("/messages?connection=acme").status_code == 422
    assert other.submit(f"/messages/{theirs}/replay").status_code == 404
    health = other.page("/health")
    assert "acme" not in health.text and 'id="queue-depth">0<' in health.text
    assert other.submit("/accounts/acme/resume").status_code == 404
    assert other.page("/try?connection=acme").status_code == 404
    assert "acme" in site.runtime.accounts.paused()
    admin = signed_in(site)
    assert theirs in admin.page("/messages?connection=acme").text
    assert admin.page(f"/messages/{theirs}").status_code == 200
    acme = signed_in(site, ACME_CONSOLE)
    assert theirs in acme.page("/messages?status=dead").text
    assert acme.page("/messages?last4=12&since=yesterday").status_code == 422


def test_no_page_shows_a_full_number_a_key_or_a_secret(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    dead_id = dead_letter(site, kaleyra, to=NUMBER)
    client = signed_in(site)
    client.page("/try?connection=acme")
    preview = client.submit(
        "/try",
        {
            "connection": "acme",
            "to": NUMBER,
            "template_name": "lto_summer",
            "body_params": "Asha\n20%",
            "header_image_url": "https://cdn.example.com/a.png",
            "expires_in": "48h",
            "coupon_code": "SUMMER20",
            "url_param": "x",
        },
    )
    assert preview.status_code == 200 and "******" + DIGITS[-4:] in preview.text
    invalid = client.submit("/try", {"connection": "acme", "to": "+91 98765 4321"})
    assert invalid.status_code == 422
    pages = [
        preview,
        invalid,
        client.page("/messages"),
        client.page(f"/messages/{dead_id}"),
        client.page("/health"),
        client.page(f"/messages?last4={DIGITS[-4:]}"),
    ]
    secrets = (API_KEY, ADMIN_KEY, ACME_CONSOLE, OTHER_CONSOLE, ACME_KEY, "9900112233")
    for page in pages:
        digits = re.sub(r"[\s().-]", "", page.text)
        assert DIGITS[-10:] not in digits, page.url
        assert "9876543" not in digits, page.url
        for secret in secrets:  # the last one is the Kaleyra sender number
            assert secret not in page.text, (secret, page.url)


def test_a_live_send_needs_a_confirmation_and_a_repeat_is_said_so(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    client = signed_in(site, ACME_CONSOLE)
    client.page("/try")
    form = {
        "connection": "acme",
        "to": NUMBER,
        "template_name": "lto_summer",
        "header_image_url": "https://cdn.example.com/a.png",
        "body_params": "Asha\n20%",
        "expires_in": "48h",
        "coupon_code": "SUMMER20",
        "url_param": "summer",
    }
    preview = client.submit("/try", form)
    assert "Send for real" in preview.text
    draft = re.search(r'name="draft" value="([^"]+)"', preview.text)
    assert draft is not None
    confirm = client.submit("/try/send", {"draft": draft.group(1)})
    assert confirm.status_code == 200 and "Send a real WhatsApp message?" in confirm.text
    assert kaleyra.requests == []
    sent = client.submit("/try/send", {"draft": draft.group(1), "confirmed": "yes"})
    assert "Sent: Kaleyra accepted it." in sent.text and len(kaleyra.sent) == 1
    body = kaleyra.sent[0].json
    assert body["extra_info"]["wa_source"] == "api" and body["messaging_object"]["to"] == (
        "+" + DIGITS
    )
    again = client.submit("/try/send", {"draft": draft.group(1), "confirmed": "yes"})
    assert again.status_code == 410  # a draft is sent once
    client.page("/try")
    repeat = client.submit("/try", form)
    draft = re.search(r'name="draft" value="([^"]+)"', repeat.text)
    assert draft is not None
    repeated = client.submit("/try/send", {"draft": draft.group(1), "confirmed": "yes"})
    assert "already sent" in repeated.text and len(kaleyra.sent) == 1
    # a template's declared shape is checked, at the field it names
    client.page("/try")
    shaped = client.submit("/try", {**form, "coupon_code": ""})
    assert shaped.status_code == 422
    assert re.search(r'id="field-coupon_code".*?data-code="template_mismatch"', shaped.text, re.S)


def test_the_kept_number_stays_on_the_server_between_previews(site: LiveConnector) -> None:
    client = signed_in(site, OTHER_CONSOLE)
    client.page("/try")
    first = client.submit(
        "/try",
        {"connection": "other", "to": NUMBER, "template_name": "x1", "coupon_code": "C" * 20},
    )
    assert first.status_code == 422 and 'data-code="too_long"' in first.text
    draft = re.search(r'name="draft" value="([^"]+)"', first.text)
    assert draft is not None and DIGITS[-8:] not in first.text
    fixed = client.submit(
        "/try",
        {
            "connection": "other",
            "draft": draft.group(1),
            "template_name": "x1",
            "coupon_code": "C10",
        },
    )
    assert fixed.status_code == 200 and "To ********3210" in fixed.text
    stranger = signed_in(site, ADMIN_KEY)  # another session cannot use that draft
    stranger.page("/try?connection=other")
    theirs = stranger.submit(
        "/try", {"connection": "other", "draft": draft.group(1), "template_name": "x1"}
    )
    assert theirs.status_code == 422 and 'data-code="required"' in theirs.text


def test_replay_is_for_dead_uncertain_and_failed_messages_only(
    site: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    uncertain = queue_offer(site, coupon_code="U1")
    expired = queue_offer(site, coupon_code="E1")
    with site.runtime.store.db.write() as conn:
        conn.execute(
            update(events)
            .where(events.c.id == uncertain)
            .values(status="uncertain", error_kind="uncertain", error_message="no answer")
        )
        conn.execute(update(events).where(events.c.id == expired).values(status="expired"))
    client = signed_in(site)
    page = client.page(f"/messages/{expired}")
    assert "expiry passed" in page.text and ">Replay</button>" not in page.text
    assert client.submit(f"/messages/{expired}/replay").status_code == 409
    page = client.page(f"/messages/{uncertain}")
    assert "may have the message already" in page.text and 'name="confirm"' in page.text
    assert client.submit(f"/messages/{uncertain}/replay").status_code == 409
    client.page(f"/messages/{uncertain}")
    assert client.submit(f"/messages/{uncertain}/replay", {"confirm": "yes"}).status_code == 200
    deliver_queued(site)
    assert site.runtime.store.get(uncertain).status == "accepted"  # type: ignore[union-attr]
    assert ">expired</option>" in client.page("/messages").text


def test_every_failure_kind_is_explained() -> None:
    assert set(MEANING) == set(FAILURES)


def test_delivery_statuses_and_what_the_platforms_were_told_show_on_the_message(
    site: LiveConnector,
) -> None:
    answer = site.post("/v1/messages", key=ACME_KEY, json=offer())
    event_id = answer.json()["id"]
    client = signed_in(site)
    before = client.page(f"/messages/{event_id}").text
    assert "WhatsApp:" not in before and "Reported to" not in before
    store = site.runtime.store
    event = store.get(event_id)
    assert event is not None
    at = event.updated_ms
    reported = [
        StatusReport("delivered", (), (event_id,), at + 1).to_json(),
        StatusReport("read", (), (event_id,), at + 2).to_json(),
    ]
    store.queue(QueueOp("apply_reports", {"account": event.account, "reports": reported,
                                          "now": at + 5}))  # fmt: skip
    rows = [{"event_id": event_id, "target": "zapier:hk_1", "status": "delivered"}]
    store.queue(QueueOp("fan_out", {"status_ids": [], "rows": rows, "now": at + 3}))
    (claimed,) = store.queue(
        QueueOp("claim_notifications", {"now": at + 3, "limit": 5, "lease_ms": 1000})
    )
    outcome = {
        "id": claimed["id"],
        "lease_until_ms": claimed["lease_until_ms"],
        "state": "retry",
        "error": "HTTP 503: from the platform",
        "next_ms": at + 60_000,
    }
    store.queue(QueueOp("record_notifications", {"outcomes": [outcome], "now": at + 7}))
    after = client.page(f"/messages/{event_id}").text
    titles = re.findall(r'class="entry-title">([^<]+)<', after)
    assert titles == [
        "Received from api (sync)",
        "Attempt 1 at Kaleyra: accepted",
        "WhatsApp: delivered",
        "WhatsApp: read",
        "Reported to zapier:hk_1: delivered",
    ]
    assert "HTTP 503: from the platform" in after
    chart = client.page("/health").text
    assert re.search(r"Totals: sent 1, delivered 1, read 1, failed 0", chart)


def test_the_open_sandbox_console_needs_no_key(start_connector: Starter) -> None:
    site = start_connector(sandbox=True, api_keys=())
    client = ConsoleClient(site)
    page = client.page("/")
    assert page.url.endswith("/sign-in") and "Open the sandbox console" in page.text
    opened = client.submit("/sign-in", {"open": "1"})
    assert opened.url.endswith("/messages") and "open sandbox" in opened.text
    assert client.page("/try").status_code == 200


def test_sign_ins_are_logged_without_keys_or_numbers(site: LiveConnector) -> None:
    lines: list[str] = []
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter())
    handler.emit = lambda record: lines.append(handler.format(record))  # type: ignore[method-assign]
    logging.getLogger("connector").addHandler(handler)
    try:
        client = ConsoleClient(site)
        client.page("/sign-in")
        assert client.submit("/sign-in", {"key": ADMIN_KEY + "x"}).status_code == 401
        client.sign_in(ADMIN_KEY)
        client.page("/try")
        client.submit("/try", {"connection": "acme", "to": NUMBER, "template_name": "lto_default"})
    finally:
        logging.getLogger("connector").removeHandler(handler)
    logged = "\n".join(lines)
    assert "console sign-in refused" in logged and '"principal": "admin"' in logged
    assert ADMIN_KEY not in logged and DIGITS[-8:] not in re.sub(r"\D", "", logged)
