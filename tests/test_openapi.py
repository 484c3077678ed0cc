"""The OpenAPI document is valid and built from the offer schema."""

from __future__ import annotations

from openapi_spec_validator import validate

from connector.offer import OfferSchema
from tests.conftest import LiveConnector


def test_openapi_document_is_valid_and_complete(connector: LiveConnector) -> None:
    spec = connector.get("/openapi.json").json()
    validate(spec)
    offer = spec["components"]["schemas"]["Offer"]
    assert set(offer["properties"]) == set(OfferSchema().fields)
    assert set(offer["required"]) == {"to", "template_name"}
    assert offer["properties"]["body_params"]["type"] == "array"
    assert "oneOf" in offer["properties"]["expires_at"]
    assert set(spec["paths"]) >= {"/v1/messages", "/hooks/zapier", "/hooks/hubspot/action",
                                  "/hooks/hubspot/webhook", "/healthz", "/readyz"}  # fmt: skip
