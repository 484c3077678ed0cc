"""The canonical offer's rules: each bad field is named, with a stable code."""

from __future__ import annotations

from typing import Any

import pytest

from connector.errors import InvalidInput
from connector.offer import Offer, OfferDefaults, OfferSchema, load_offer
from tests.conftest import offer

NOW_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def load(data: Any, region: str | None = "IN", language: str | None = "en") -> Offer:
    schema = OfferSchema(
        defaults=OfferDefaults(region=region, language=language), clock=lambda: NOW_MS
    )
    return load_offer(schema, data)


def errors_of(data: Any, **kwargs: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidInput) as info:
        load(data, **kwargs)
    return {field: [item["code"] for item in items] for field, items in info.value.errors.items()}


def test_complete_offer_becomes_the_canonical_message() -> None:
    result = load(offer(expires_in=None, expires_at="2026-01-15T00:00:00Z"))
    assert result.to == "+919876543210"
    assert result.template_name == "lto_template"
    assert result.language == "en_US"
    assert result.header is not None and result.header.id == "1602186516975000"
    assert result.body_params == ("Pablo", "CARIBE25")
    assert result.expiration_ms == 1_768_435_200_000
    assert (result.coupon_code, result.url_param) == ("CARIBE25", "n3mtql")
    assert (result.ref, result.ref1, result.ref2) == ("customer1", "marketing", "dictionary")


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("+91 98765 43210", None, "+919876543210"),
        ("98765-43210", "IN", "+919876543210"),
        ("919876543210", "IN", "+919876543210"),
        ("00919876543210", None, "+919876543210"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "IN", "+14155552671"),
        (919876543210, None, "+919876543210"),
    ],
)
def test_phone_numbers_in_human_formats_become_e164(
    raw: Any, region: str | None, e164: str
) -> None:
    assert load(offer(to=raw), region=region).to == e164


@pytest.mark.parametrize("raw", ["12345", "not a phone", "+1 555 123 4567", ""])
def test_invalid_phone_is_named(raw: str) -> None:
    assert errors_of(offer(to=raw))["to"][0] in ("invalid_phone", "empty")


def test_national_number_without_default_region_explains_why() -> None:
    with pytest.raises(InvalidInput) as info:
        load(offer(to="98765 43210"), region=None)
    assert info.value.code == "invalid_phone"
    assert "no default region" in info.value.message
    assert "98765" not in info.value.message  # the number itself is masked


def test_required_fields() -> None:
    assert errors_of({}) == {"to": ["required"], "template_name": ["required"]}


@pytest.mark.parametrize("name", ["LTO_Template", "lto-template", "lto template", "x" * 513])
def test_template_name_rule(name: str) -> None:
    assert errors_of(offer(template_name=name))["template_name"][0] in (
        "invalid_format",
        "too_long",
    )


def test_language_defaults_and_suggestions() -> None:
    assert load(offer(language=None)).language == "en"
    assert load(offer(language="pt_BR")).language == "pt_BR"
    assert load(offer(language="es_CL")).language == "es_CL"  # a newer regional variant
    with pytest.raises(InvalidInput) as info:
        load(offer(language="en-US"))
    assert info.value.errors["language"][0]["code"] == "invalid_language"
    assert "en_US" in info.value.message
    assert errors_of(offer(language="klingon"))["language"] == ["invalid_language"]
    assert errors_of(offer(language=None), language=None)["language"] == ["required"]


def test_exactly_one_header() -> None:
    video = load(offer(header_image_id=None, header_video_url="https://cdn.example.com/a.mp4"))
    assert video.header is not None
    assert (video.header.kind, video.header.link) == ("video", "https://cdn.example.com/a.mp4")
    assert load(offer(header_image_id=None)).header is None
    errors = errors_of(offer(header_image_url="https://cdn.example.com/a.png"))
    assert errors["header_image_id"] == ["conflicting_fields"]
    assert errors["header_image_url"] == ["conflicting_fields"]
    assert errors_of(offer(header_image_id="abc"))["header_image_id"] == ["invalid_format"]
    assert errors_of(offer(header_image_id=None, header_image_url="ftp://x"))[
        "header_image_url"
    ] == ["invalid_url"]


@pytest.mark.parametrize(
    ("params", "position", "code"),
    [
        (["ok", "line\nbreak"], "body_params.2", "invalid_body_param"),
        (["tab\there"], "body_params.1", "invalid_body_param"),
        (["five     spaces"], "body_params.1", "invalid_body_param"),
        (["x" * 1025], "body_params.1", "too_long"),
        (["ok", ""], "body_params.2", "empty"),
    ],
)
def test_body_param_rules_name_the_variable(params: list[str], position: str, code: str) -> None:
    assert errors_of(offer(body_params=params))[position] == [code]


def test_body_params_accept_list_shapes() -> None:
    assert load(offer(body_params="Pablo, CARIBE25")).body_params == ("Pablo", "CARIBE25")
    assert load(offer(body_params='["Pablo", "a, b"]')).body_params == ("Pablo", "a, b")
    assert load(offer(body_params=["four    spaces", 25])).body_params == ("four    spaces", "25")


@pytest.mark.parametrize(
    ("value", "expected_ms"),
    [
        ("2026-01-15T00:00:00Z", 1_768_435_200_000),
        ("2026-01-15T05:30:00+05:30", 1_768_435_200_000),
        ("2026-01-14T19:00:00-05:00", 1_768_435_200_000),
        (1_768_435_200_000, 1_768_435_200_000),
        ("1768435200000", 1_768_435_200_000),
    ],
)
def test_expires_at_becomes_epoch_milliseconds(value: Any, expected_ms: int) -> None:
    assert load(offer(expires_in=None, expires_at=value)).expiration_ms == expected_ms


def test_seconds_or_durations_are_refused_with_advice() -> None:
    # the API page's own sample value: 14 days as a duration, or 1970-01-15 as a timestamp
    with pytest.raises(InvalidInput) as info:
        load(offer(expires_in=None, expires_at=1209600000))
    assert info.value.code == "expiry_not_milliseconds"
    assert "seconds or a duration" in info.value.message and "expires_in" in info.value.message
    assert errors_of(offer(expires_in=None, expires_at=1768435200))["expires_at"] == [
        "expiry_not_milliseconds"
    ]


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("2025-12-31T23:59:00Z", "expiry_in_past"),
        ("2026-01-15T00:00:00", "invalid_expiry"),
        ("next tuesday", "invalid_expiry"),
        (1_768_435_200_000_000, "invalid_expiry"),
        (True, "invalid_expiry"),
    ],
)
def test_bad_expires_at(value: Any, code: str) -> None:
    assert errors_of(offer(expires_in=None, expires_at=value))["expires_at"] == [code]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("14d", 1_209_600), ("48h", 172_800), ("90m", 5_400), ("P14D", 1_209_600),
     ("PT48H", 172_800), ("P1DT12H", 129_600)],
)  # fmt: skip
def test_expires_in_is_relative_to_now(value: str, seconds: int) -> None:
    result = load(offer(expires_in=value))
    assert result.expiration_ms == NOW_MS + seconds * 1000
    assert result.expires_in_s == seconds


@pytest.mark.parametrize("value", ["14", "two weeks", "0d", "P", "PT"])
def test_bad_expires_in(value: str) -> None:
    assert errors_of(offer(expires_in=value))["expires_in"] == ["invalid_duration"]


def test_both_expiries_conflict() -> None:
    assert errors_of(offer(expires_at="2026-02-01T00:00:00Z"))["expires_in"] == [
        "conflicting_fields"
    ]


def test_length_limits() -> None:
    assert load(offer(coupon_code="X" * 15)).coupon_code == "X" * 15
    assert errors_of(offer(coupon_code="X" * 16))["coupon_code"] == ["too_long"]
    assert errors_of(offer(coupon_code=""))["coupon_code"] == ["empty"]
    assert errors_of(offer(ref="r" * 256))["ref"] == ["too_long"]
    assert errors_of(offer(idempotency_key="k" * 256))["idempotency_key"] == ["too_long"]
    assert errors_of(offer(url_param="u" * 2001))["url_param"] == ["too_long"]


def test_unknown_fields_and_wrong_types_are_named() -> None:
    errors = errors_of(offer(coupon="SAVE10"))
    assert errors == {"coupon": ["unknown_field"]}
    assert errors_of([offer()]) == {"_schema": ["malformed_body"]}
    assert errors_of(offer(template_name=["a"]))["template_name"] == ["invalid_type"]


def test_every_error_is_reported_at_once() -> None:
    errors = errors_of(offer(to="1", coupon_code="X" * 16, body_params=["a\tb"]))
    assert set(errors) == {"to", "coupon_code", "body_params.1"}


def test_fingerprint_ignores_when_a_relative_expiry_was_computed() -> None:
    first = OfferSchema(clock=lambda: NOW_MS).load(offer())
    later = OfferSchema(clock=lambda: NOW_MS + 5_000).load(offer())
    assert first.expiration_ms != later.expiration_ms
    assert first.fingerprint() == later.fingerprint()
    assert (
        first.fingerprint()
        != OfferSchema(clock=lambda: NOW_MS).load(offer(coupon_code="B")).fingerprint()
    )


@pytest.mark.parametrize("raw", ["(435) 260-1234", "435 260 1234", "4352601234"])
def test_a_local_number_is_never_rehomed_to_another_country(raw: str) -> None:
    # "+4352601234" is a valid Austrian number: without a region these must be refused
    assert errors_of(offer(to=raw), region=None)["to"] == ["invalid_phone"]
    assert load(offer(to=raw), region="US").to == "+14352601234"


def test_bare_digits_with_country_code_are_understood_without_region() -> None:
    assert load(offer(to="14352601234"), region=None).to == "+14352601234"


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("expires_at", "9" * 400, "invalid_expiry"),
        ("expires_at", "9999-12-31T23:59:59Z", "invalid_expiry"),
        ("expires_at", 4_102_444_800_000, "invalid_expiry"),
        ("expires_at", float("inf"), "invalid_expiry"),
        ("expires_in", "99999999999d", "invalid_duration"),
        ("expires_in", "3661d", "invalid_duration"),
    ],
)
def test_absurd_expiries_are_refused_not_crashed_on(field: str, value: Any, code: str) -> None:
    data = offer(expires_in=None) | {field: value}
    assert errors_of(data)[field] == [code]


def test_an_offer_ending_within_the_safety_margin_is_refused_at_the_door() -> None:
    schema = OfferSchema(clock=lambda: NOW_MS, expiry_margin_s=60)
    for data, field in (
        (offer(expires_in=None, expires_at=NOW_MS + 59_000), "expires_at"),
        (offer(expires_in="45s"), "expires_in"),
    ):
        with pytest.raises(InvalidInput) as info:
            load_offer(schema, data)
        [problem] = info.value.errors[field]
        assert problem["code"] == "expiry_too_soon" and "60 s" in problem["message"]
    assert load_offer(schema, offer(expires_in=None, expires_at=NOW_MS + 61_000)).expiration_ms
    assert load_offer(schema, offer(expires_in="2m")).expires_in_s == 120


def test_the_content_fingerprint_is_the_one_earlier_releases_stored() -> None:
    """Content dedupe spans an upgrade: an offer repeated after it must match its first call."""
    data = offer(expires_in=None, expires_at="2026-01-15T00:00:00Z", header_image_id=None,
                 header_image_url="https://cdn.example.com/a.jpg")  # fmt: skip
    assert load(data).fingerprint() == (
        "5ba36993655a38008157a7063a0e8a7b1f0be24379fa94e9040bb8c19cc64791"
    )
