"""The connections file: tenants, env references, mappings and template shapes, checked at start."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from connector.config import ConfigError, Settings
from tests.conftest import LiveConnector, offer
from tests.kaleyra_fake import API_KEY, FakeKaleyra

GOOD = """
connections:
  acme:
    kaleyra: {sid: HX1, api_key: "${ACME_KEY}", sender: "+919900112233", base_url: "%s"}
    defaults: {region: IN, template_name: lto_summer, offer_lifetime: 48h}
    inbound: {api_keys: [acme-caller-key]}
    templates:
      lto_summer: {header: image, body_params: 2, coupon: true, url: false}
"""


def problems_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        Settings(connections_file=str(path)).load_connections(env or {})
    return caught.value.problems


def test_every_problem_is_reported_by_its_path(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
connections:
  acme:
    kaleyra: {sid: HX1, api_key: literal-secret, sender: "+919900112233", pod: mars}
    inbound: {api_keys: [shared-key-1]}
    mappings:
      braze: {to: "user..phone", colour: red}
      hubspot: {to: phone}
    templates:
      lto_summer: {header: gif}
  beta:
    inbound: {api_keys: [shared-key-1]}
""",
    )
    text = "\n".join(problems)
    assert "connections.acme.kaleyra.api_key" in text and "environment reference" in text
    assert "connections.acme.kaleyra.pod" in text
    assert "connections.acme.mappings" in text and "hubspot" in text
    assert "connections.acme.templates.lto_summer.header: Must be one of" in text


def test_mapping_mistakes_and_shared_identities_are_named(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
connections:
  acme:
    inbound: {api_keys: [shared-key-1]}
    mappings:
      braze: {to: "user..phone", colour: red, body_params: ["{{user.name"]}
  beta:
    inbound: {api_keys: [shared-key-1]}
""",
    )
    text = "\n".join(problems)
    assert "mappings.braze.to" in text and "user..phone" in text
    assert "mappings.braze.colour: not an offer field" in text
    assert "mappings.braze.body_params[0]" in text
    problems = problems_of(
        tmp_path,
        """
connections:
  acme: {inbound: {api_keys: [shared-key-1]}}
  beta: {inbound: {api_keys: [shared-key-1]}}
""",
    )
    assert any("acme and beta share a API key" in p for p in problems)


def test_console_keys_are_digests_long_enough_and_pick_one_connection(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """
connections:
  acme: {inbound: {console_keys: ["${ACME_CONSOLE}", acme-console-key-0001]}}
  beta: {inbound: {console_keys: [acme-console-key-0001]}}
""",
        {"ACME_CONSOLE": "short"},
    )
    assert any("connections.acme.inbound.console_keys[0]: must be at least 16" in p
               for p in problems)  # fmt: skip
    problems = problems_of(tmp_path, "connections:\n" + "".join(
        f"  {name}: {{inbound: {{console_keys: [acme-console-key-0001]}}}}\n"
        for name in ("acme", "beta")))  # fmt: skip
    assert any("acme and beta share a console key" in p for p in problems)
    path = tmp_path / "ok.yaml"
    path.write_text('connections: {acme: {inbound: {console_keys: ["${ACME_CONSOLE}"]}}}')
    key = "acme-console-key-from-env"
    connections = Settings(connections_file=str(path)).load_connections({"ACME_CONSOLE": key})
    acme = connections.all["acme"]
    assert key not in acme.inbound.console_keys and len(acme.inbound.console_keys) == 1
    assert connections.by_console_key(key) is acme
    assert connections.by_console_key("acme-console-key-from-en") is None
    assert connections.by_api_key(key) is None  # a console key is not an API key


def test_a_missing_environment_reference_is_named(tmp_path: Path) -> None:
    problems = problems_of(tmp_path, GOOD % "http://127.0.0.1:9")
    assert any("ACME_KEY is not set" in p for p in problems)


@pytest.fixture
def shaped(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> LiveConnector:
    monkeypatch.setenv("ACME_KEY", API_KEY)
    path = tmp_path / "c.yaml"
    path.write_text(GOOD % kaleyra.base_url)
    return start_connector(sandbox=True, connections_file=str(path))


def test_an_offer_that_does_not_fit_its_template_is_refused_before_sending(
    shaped: LiveConnector, kaleyra: FakeKaleyra
) -> None:
    body = offer(template_name="lto_summer", body_params=["Asha"], url_param="x")
    response = shaped.post("/v1/messages", key="acme-caller-key", json=body)
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors["body_params"][0]["code"] == "template_mismatch"
    assert "takes 2 body variable(s); got 1" in errors["body_params"][0]["message"]
    assert "no URL button variable; remove url_param" in errors["url_param"][0]["message"]
    assert "header_image_url" not in errors  # an image header by id fits an image template
    assert kaleyra.sent == []


def test_connection_defaults_complete_an_offer(shaped: LiveConnector, kaleyra: FakeKaleyra) -> None:
    body = {
        "to": "98765 43210",
        "header_image_url": "https://cdn.example.com/a.jpg",
        "body_params": ["Asha", "30%"],
        "coupon_code": "SUMMER30",
    }
    response = shaped.post("/v1/messages", key="acme-caller-key", json=body)
    assert response.status_code == 202, response.text
    (sent,) = kaleyra.sent
    message = sent.json["messaging_object"]
    assert message["to"] == "+919876543210" and message["template"]["name"] == "lto_summer"
    lto = [c for c in message["template"]["components"] if c["type"] == "limited_time_offer"]
    expiry = lto[0]["parameters"][0]["limited_time_offer"]["expiration_time_ms"]
    event = shaped.runtime.store.get(response.json()["id"])
    assert event is not None and abs(event.created_ms + 48 * 3600_000 - expiry) < 5_000
    assert response.json()["wa_source"] == "api"


def test_an_unknown_key_is_refused_when_connections_are_configured(shaped: LiveConnector) -> None:
    response = shaped.post("/v1/messages", key="not-a-caller", json=offer())
    assert response.status_code == 401


def test_references_are_filled_before_the_file_is_checked(
    tmp_path: Path, kaleyra: FakeKaleyra
) -> None:
    """A filled value is checked as what it is (a URL here), and a secret must still be given
    as a reference, never written in the file."""
    path = tmp_path / "c.yaml"
    path.write_text(GOOD.replace('"%s"', '"${KALEYRA_STAGING_URL}"'))
    env = {"ACME_KEY": API_KEY, "KALEYRA_STAGING_URL": kaleyra.base_url}
    connections = Settings(connections_file=str(path)).load_connections(env)
    assert connections.all["acme"].account.base_url == kaleyra.base_url
    problems = problems_of(tmp_path, GOOD.replace('"%s"', '"${KALEYRA_STAGING_URL}"'),
                           {"ACME_KEY": API_KEY, "KALEYRA_STAGING_URL": "not a url"})  # fmt: skip
    assert any("connections.acme.kaleyra.base_url" in p and "URL" in p for p in problems)
    missing = problems_of(tmp_path, GOOD % kaleyra.base_url, {})
    assert any(
        "connections.acme.kaleyra.api_key: environment variable ACME_KEY is not set" in p
        for p in missing
    )
