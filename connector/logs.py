"""One JSON line per request and per upstream call; phone numbers and secrets never appear."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from typing import Any

from .jsonio import printable

# "+" and 7+ digits with separators, or a bare run of 8-15 digits standing alone
_PHONE_LIKE = re.compile(r"\+\d[\d\s().-]{5,}\d|(?<![\w.:-])\d{8,15}(?![\w.:-])")
# structured values that are never phone numbers or secrets
_SAFE_KEYS = frozenset({"ts", "level", "logger", "event_id", "message_id", "request_id", "remote"})
_SECRET_KEYS = re.compile(r"(api[-_]?key|secret|token|authorization|password)", re.IGNORECASE)


def mask_digits(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return "*" * (len(digits) - 4) + digits[-4:] if len(digits) > 4 else match.group(0)


def scrub(value: Any, key: str = "") -> Any:
    if key in _SAFE_KEYS:
        return value
    if key and _SECRET_KEYS.search(key):
        return "****"
    if isinstance(value, str):
        return _PHONE_LIKE.sub(mask_digits, value)
    if isinstance(value, dict):
        return {k: scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        # a caller's text may hold a lone surrogate: replaced, so the line can be written
        return printable(json.dumps(scrub(line), default=str, ensure_ascii=False))


def configure(level: str = "INFO") -> None:
    root = logging.getLogger("connector")
    if not any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def log(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: Any) -> None:
    logger.log(level, event, extra={"fields": fields})
