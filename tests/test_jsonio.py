"""The one JSON reader and writer (``connector.jsonio``): what it refuses, and that it never
fails to write any text."""

from __future__ import annotations

import json

import pytest

from connector.jsonio import MAX_DEPTH, JsonRefused, dump_json, parse_json


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("NaN", "NaN"), ('{"a": -Infinity}', "-Infinity"), ("[1e400]", "too large"),
     ("9" * 5000, "digits"), ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested"),
     ('{"a":' * 5000 + "1" + "}" * 5000, "nested"), ("[" * 100_000, "nested"),
     (b"\xff\xfe\x00", "Expecting|decode"), ("{", "Expecting")],
)  # fmt: skip
def test_the_reader_refuses_what_is_not_standard_json_or_too_deep(raw: str, reason: str) -> None:
    with pytest.raises(JsonRefused, match=reason):
        parse_json(raw)


def test_the_reader_takes_the_deepest_allowed_document() -> None:
    deepest = "[" * MAX_DEPTH + "]" * MAX_DEPTH
    assert parse_json(deepest) == json.loads(deepest)
    assert parse_json(b'{"a": [1.5, "\\u00e9"]}') == {"a": [1.5, "é"]}


def test_the_writer_replaces_what_utf8_cannot_carry() -> None:
    written = dump_json({"coupon\ud800": ["Pri\ud83d", "ok 😀"]})
    assert json.loads(written.decode("utf-8")) == {"coupon\ufffd": ["Pri\ufffd", "ok 😀"]}
