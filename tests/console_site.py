"""The console's test site: tests/platform_cases.py's tenants with console keys, an admin key and
template shapes, served by the real app on a loopback socket; and a signed-in HTTP client."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.conftest import HUBSPOT_SECRET, LiveConnector, deliver_queued, offer
from tests.kaleyra_fake import API_KEY, FakeKaleyra
from tests.platform_cases import ACME_KEY, SHOPIFY_SECRET, connections_yaml

ADMIN_KEY = "admin-key-3c9f1e7a5b2d4c6e"
ACME_CONSOLE = "acme-console-key-7d1e9b3f"
OTHER_CONSOLE = "other-console-key-2a8c6e4d"
NUMBER = "+91 98765 43210"  # the documentation's sample number
DIGITS = "919876543210"
ASYNC = {"Prefer": "respond-async"}


def start_site(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    **overrides: Any,
) -> LiveConnector:
    monkeypatch.setenv("TEST_ACME_KALEYRA_KEY", API_KEY)
    monkeypatch.setenv("TEST_SHOPIFY_SECRET", SHOPIFY_SECRET)
    doc = yaml.safe_load(connections_yaml(kaleyra.base_url, HUBSPOT_SECRET))
    acme, other = doc["connections"]["acme"], doc["connections"]["other"]
    acme["inbound"]["console_keys"] = [ACME_CONSOLE]
    acme["templates"] = {
        "lto_summer": {
            "header": "image",
            "body_params": 2,
            "coupon": True,
            "url": True,
            "expiry": True,
            "label": "Summer sale",
        },
    }
    other["inbound"]["console_keys"] = [OTHER_CONSOLE]
    other["templates"] = {"lto_spring": {"header": "image", "body_params": 2, "coupon": True}}
    path = tmp_path / f"connections-{uuid.uuid4().hex[:8]}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    overrides.setdefault("admin_keys", (ADMIN_KEY,))
    return start_connector(sandbox=True, connections_file=str(path), **overrides)


def queue_offer(site: LiveConnector, key: str = ACME_KEY, **fields: Any) -> str:
    answer = site.post("/v1/messages", key=key, json=offer(**fields), headers=ASYNC)
    assert answer.status_code == 202, answer.text
    return str(answer.json()["id"])


def dead_letter(site: LiveConnector, kaleyra: FakeKaleyra, **fields: Any) -> str:
    """An acme message Kaleyra refused (WA400): a dead letter."""
    kaleyra.then("WA400")
    event_id = queue_offer(site, **fields)
    deliver_queued(site)
    event = site.runtime.store.get(event_id)
    assert event is not None and event.status == "dead"
    return event_id


def paused_account(site: LiveConnector, kaleyra: FakeKaleyra) -> str:
    """acme's account paused by a low balance (E110); its message waits, queued."""
    kaleyra.then("E110")
    event_id = queue_offer(site, coupon_code="PAUSED")
    deliver_queued(site)
    assert "acme" in site.runtime.accounts.paused()
    return event_id


class ConsoleClient(requests.Session):
    """A browser without a browser: keeps the cookie, reads each page's CSRF token."""

    def __init__(self, site: LiveConnector) -> None:
        super().__init__()
        self.site = site
        self.token = ""

    def page(self, path: str, **kwargs: Any) -> requests.Response:
        answer = self.get(self.site.base_url + path, timeout=30, **kwargs)
        self.remember(answer)
        return answer

    def remember(self, answer: requests.Response) -> None:
        found = re.search(r'name="csrf_token" value="([^"]+)"', answer.text)
        if found:
            self.token = found.group(1)

    def submit(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = {"csrf_token": self.token, **(data or {})}
        answer = self.post(self.site.base_url + path, data=form, timeout=30, **kwargs)
        self.remember(answer)
        return answer

    def sign_in(self, key: str) -> requests.Response:
        self.page("/sign-in")
        answer = self.submit("/sign-in", {"key": key})
        assert answer.status_code == 200 and answer.url.endswith("/messages"), answer.text[:500]
        return answer
