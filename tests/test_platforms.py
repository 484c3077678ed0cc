"""The conformance suite: every platform, as it really calls, through the running connector.

For each platform: its documented payload is accepted and answered in its own format; a forged or
unauthenticated one is refused in its own format and sends nothing; a redelivery sends nothing
twice; and what reaches Kaleyra carries that platform's ``wa_source``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import HUBSPOT_SECRET, LiveConnector, deliver_queued
from tests.kaleyra_fake import FakeKaleyra
from tests.platform_cases import Case, cases

CASES = cases(HUBSPOT_SECRET)


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
