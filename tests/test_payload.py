"""Offer → the exact request body on Kaleyra's API page."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from connector.errors import InvalidInput
from connector.kaleyra import WA_SOURCES, build_request
from connector.offer import Header, Offer

EXPIRY = 1_768_435_200_000


def sample_offer(**changes: Any) -> Offer:
    """The API page's sample request, as an offer (with an expiry in epoch milliseconds)."""
    values: dict[str, Any] = {
        "to": "+919876543210",
        "template_name": "LTO_template".lower(),
        "language": "en_US",
        "header": Header("image", id="1602186516975000"),
        "body_params": ("Pablo", "CARIBE25"),
        "expiration_ms": EXPIRY,
        "coupon_code": "CARIBE25",
        "url_param": "n3mtql",
        "ref": "customer1",
        "ref1": "marketing",
        "ref2": "dictionary",
    }
    values.update(changes)
    return Offer(**values)


# The API page's "Sample Request Format", with its JSON mended (the page closes the -d string
# before extra_info) and the template name lower-cased as Meta requires.
PAGE_SAMPLE: dict[str, Any] = {
    "messaging_object": {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": "+919876543210",
        "type": "template",
        "template": {
            "name": "lto_template",
            "language": {"code": "en_US"},
            "components": [
                {
                    "type": "header",
                    "parameters": [{"type": "image", "image": {"id": "1602186516975000"}}],
                },
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "Pablo"},
                        {"type": "text", "text": "CARIBE25"},
                    ],
                },
                {
                    "type": "limited_time_offer",
                    "parameters": [
                        {
                            "type": "limited_time_offer",
                            "limited_time_offer": {"expiration_time_ms": EXPIRY},
                        }
                    ],
                },
                {
                    "type": "button",
                    "sub_type": "copy_code",
                    "index": 0,
                    "parameters": [{"type": "coupon_code", "coupon_code": "CARIBE25"}],
                },
                {
                    "type": "button",
                    "sub_type": "url",
                    "index": 1,
                    "parameters": [{"type": "text", "text": "n3mtql"}],
                },
            ],
        },
    },
    "extra_info": {
        "ref": "customer1",
        "ref1": "marketing",
        "ref2": "dictionary",
        "wa_source": "api",
    },
}


def page_sample(expiration_ms: int = EXPIRY) -> dict[str, Any]:
    """A copy of PAGE_SAMPLE whose offer ends at ``expiration_ms``."""
    sample = copy.deepcopy(PAGE_SAMPLE)
    lto = sample["messaging_object"]["template"]["components"][2]["parameters"][0]
    lto["limited_time_offer"]["expiration_time_ms"] = expiration_ms
    return sample


def test_full_offer_matches_the_api_page_sample() -> None:
    assert build_request(sample_offer(), "api") == PAGE_SAMPLE


def components(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return payload["messaging_object"]["template"]["components"]


def test_absent_parts_are_omitted_and_url_button_moves_to_index_0() -> None:
    bare = sample_offer(
        header=None, body_params=(), coupon_code=None, ref=None, ref1=None, ref2=None
    )
    payload = build_request(bare, "zapier")
    assert [c["type"] for c in components(payload)] == ["limited_time_offer", "button"]
    assert components(payload)[1] == {
        "type": "button",
        "sub_type": "url",
        "index": 0,
        "parameters": [{"type": "text", "text": "n3mtql"}],
    }
    assert payload["extra_info"] == {"wa_source": "zapier"}


def test_header_by_link_and_video() -> None:
    payload = build_request(
        sample_offer(header=Header("video", link="https://cdn.example.com/v.mp4")), "api"
    )
    assert components(payload)[0] == {
        "type": "header",
        "parameters": [{"type": "video", "video": {"link": "https://cdn.example.com/v.mp4"}}],
    }


def test_expiry_is_an_integer_of_milliseconds() -> None:
    lto = components(build_request(sample_offer(), "api"))[2]
    value = lto["parameters"][0]["limited_time_offer"]["expiration_time_ms"]
    assert isinstance(value, int) and value == EXPIRY


@pytest.mark.parametrize("source", sorted(WA_SOURCES))
def test_every_listed_wa_source_is_sent_as_is(source: str) -> None:
    assert build_request(sample_offer(), source)["extra_info"]["wa_source"] == source


def test_wa_sources_are_the_thirteen_on_the_page() -> None:
    assert WA_SOURCES == {
        "api", "clevertap", "zoho", "webengage", "shopify", "leadsquared", "responsys", "braze",
        "hubspot", "salesforce", "zapier", "eloqua", "moengage",
    }  # fmt: skip


@pytest.mark.parametrize("source", ["API", "custom", "", "hubspot "])
def test_unknown_wa_source_is_never_sent(source: str) -> None:
    with pytest.raises(ValueError, match="wa_source"):
        build_request(sample_offer(), source)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"body_params": ("Pablo", "CARI\ud83d")}, "body_params.2"),
     ({"coupon_code": "SAVE\x0010"}, "coupon_code"), ({"ref2": "\udc00"}, "ref2"),
     ({"header": Header("video", link="https://x.example/\ud800.mp4")}, "header_video_url"),
     ({"idempotency_key": "k\ud800"}, "idempotency_key")],
)  # fmt: skip
def test_an_offer_with_text_that_cannot_be_sent_is_never_built(
    changes: dict[str, Any], field: str
) -> None:
    """The last guard before the relay stores anything: an ``Offer`` built in code, not by the
    schema, still cannot carry a lone surrogate or a NUL into the store or to Kaleyra."""
    with pytest.raises(InvalidInput) as refused:
        build_request(sample_offer(**changes), "api")
    assert list(refused.value.errors) == [field]
    assert refused.value.errors[field][0]["code"] == "invalid_text"
