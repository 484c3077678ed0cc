"""The conformance suite: every platform, as it really calls, through the running connector.

For each platform: its documented payload is accepted and answered in its own format; a forged or
unauthenticated one is refused in its own format and sends nothing; a redelivery sends nothing
twice; and what reaches Kaleyra carries that platform's ``wa_source``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import HUBSPOT_SECRET, LiveConnector
from tests.kaleyra_fake import API_KEY, FakeKaleyra
from tests.platform_cases import SHOPIFY_SECRET, Case, cases, connections_yaml

CASES = cases(HUBSPOT_SECRET)


@pytest.fixture
def tenants(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> LiveConnector:
    monkeypatch.setenv("TEST_ACME_KALEYRA_KEY", API_KEY)
    monkeypatch.setenv("TEST_SHOPIFY_SECRET", SHOPIFY_SECRET)
    path = tmp_path / "connections.yaml"
    path.write_text(connections_yaml(kaleyra.base_url, HUBSPOT_SECRET))
    return start_connector(sandbox=True, connections_file=str(path))


def deliver_queued(connector: LiveConnector) -> None:
    """What a queue worker does: deliver every queued event (the same ``deliver``)."""
    runtime = connector.runtime
    for event in runtime.store.recent(limit=500, status="queued"):
        runtime.deliverer.deliver(event.id)


def sent_payloads(kaleyra: FakeKaleyra) -> list[dict[str, Any]]:
    return [r.json for r in kaleyra.sent if r.accepted]


def test_every_wa_source_kaleyra_lists_has_a_route() -> None:
    from connector.kaleyra import WA_SOURCES

    assert {c.wa_source for c in CASES} == set(WA_SOURCES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.platform)
def test_real_payload_is_accepted_sent_once_with_its_wa_source(
    case: Case, tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    first = case.valid().send(tenants.base_url)
    case.accepted(first)
    repeat = case.valid().send(tenants.base_url)  # the platform redelivers
    case.accepted(repeat)
    deliver_queued(tenants)

    sent = sent_payloads(kaleyra)
    assert len(sent) == case.sends, [p["messaging_object"]["to"] for p in sent]
    for payload in sent:
        assert payload["extra_info"]["wa_source"] == case.wa_source
        assert payload["messaging_object"]["to"].startswith("+")
        assert payload["messaging_object"]["template"]["name"]
        components = {c["type"] for c in payload["messaging_object"]["template"]["components"]}
        assert "limited_time_offer" in components  # every offer ends: its own or the default


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.platform)
def test_forged_or_unauthenticated_call_is_refused_in_the_platforms_format(
    case: Case, tenants: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    case.refused(case.forged().send(tenants.base_url))
    deliver_queued(tenants)
    assert kaleyra.sent == []
    assert tenants.runtime.store.count() == 0
