"""JSON in and out, safe for any input: the one reader every route uses, and the one writer.

The reader takes standard JSON only (RFC 8259): no ``NaN``/``Infinity``, no number too large for
a float, and no nesting deeper than ``MAX_DEPTH`` (no platform sends more than a handful of
levels; deeper documents would only exhaust the recursion of the code that walks them). Any of
these is a ``JsonRefused`` (a ``ValueError``) saying what was wrong.

The writer never fails on text: a lone UTF-16 surrogate (which ``\\ud800`` in a JSON string
decodes to, and which no UTF-8 can carry) is written as U+FFFD, so an error answer that quotes
the caller's own input can always be sent.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRefused(ValueError):
    """The body is not JSON this connector reads; the message says why."""


def _no_constant(name: str) -> Any:
    raise JsonRefused(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise JsonRefused(f"the number {text[:40]} is too large")
    return value


def parse_json(raw: bytes | str) -> Any:
    """Standard JSON, at most ``MAX_DEPTH`` levels deep, or ``JsonRefused``."""
    try:
        value = json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise JsonRefused(f"it is nested more than {MAX_DEPTH} levels deep") from None
    except JsonRefused:
        raise
    except (ValueError, UnicodeDecodeError) as exc:  # JSONDecodeError, too many digits ...
        raise JsonRefused(str(exc)) from None
    if too_deep(value, MAX_DEPTH):
        raise JsonRefused(f"it is nested more than {MAX_DEPTH} levels deep")
    return value


def too_deep(value: Any, limit: int) -> bool:
    """Whether lists/objects in ``value`` nest more than ``limit`` levels (level by level, no
    recursion: about 30 ms for a 1 MB body of small objects)."""
    level: list[Any] = [value] if isinstance(value, dict | list) else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            for child in node.values() if type(node) is dict else node:
                if type(child) is dict or type(child) is list:
                    below.append(child)
        level = below
    return False


def printable(text: str) -> str:
    """``text`` with every lone surrogate replaced by U+FFFD: always encodable as UTF-8."""
    return LONE_SURROGATE.sub("\ufffd", text)


def dump_json(body: Any) -> bytes:
    """UTF-8 JSON of ``body``; text that UTF-8 cannot carry is replaced, never an error."""
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return printable(text).encode("utf-8")


def encode_text(text: str) -> bytes:
    """UTF-8 of any text (an XML or plain answer), lone surrogates replaced."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return printable(text).encode("utf-8")
