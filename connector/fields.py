"""marshmallow fields shared by every schema: the parsing rules of one LTO offer.

Each field raises errors with a stable code (see ``errors.Coded``) so callers can match on them.
Settings a field needs (default region, the clock) are read from the root schema, which every
offer schema gets from ``OfferSchema``.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

import phonenumbers
from marshmallow import ValidationError, fields, validate

from .errors import Coded
from .jsonio import LONE_SURROGATE, JsonRefused, parse_json
from .languages import is_language, suggest_language

COMMON_ERRORS = {
    "required": Coded("required", "This field is required."),
    "null": Coded("required", "This field may not be null."),
    "validator_failed": Coded("invalid", "Invalid value."),
}


def root_setting(field: fields.Field, name: str, default: Any = None) -> Any:
    return getattr(field.root, name, default)


NUL = "\x00"


def text_problem(text: str) -> Coded | None:
    """Why ``text`` cannot be stored or sent, or None: a lone UTF-16 surrogate cannot be encoded
    as UTF-8 at all, and a NUL is no text (PostgreSQL cannot even store it)."""
    surrogate = LONE_SURROGATE.search(text)
    if surrogate is not None:
        return Coded(
            "invalid_text",
            f"Contains a lone UTF-16 surrogate (U+{ord(surrogate.group()):04X} at character "
            f"{surrogate.start() + 1}), e.g. a string cut in the middle of an emoji; such text "
            "cannot be encoded as UTF-8 or sent.",
        )
    if NUL in text:
        return Coded(
            "invalid_text",
            f"Contains a NUL character (U+0000 at character {text.index(NUL) + 1}); message "
            "text may not carry one (a control character, not text).",
        )
    return None


def check_text(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise ValidationError(problem)
    return text


class String(fields.String):
    """Every string the connector reads: text it could never encode or send is refused here, so
    every schema and route inherits the rule."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be a string."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        return check_text(super()._deserialize(value, attr, data, **kwargs))


class Identifier(String):
    """A platform's id for a delivery: text, or a number taken as its digits."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        return super()._deserialize(value, attr, data, **kwargs)


class Integer(fields.Integer):
    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be an integer."),
        "too_large": Coded("invalid_type", "Must be an integer of reasonable size."),
    }


class Boolean(fields.Boolean):
    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be true or false."),
    }


class Object(fields.Dict):
    """A JSON object whose contents a later step reads."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be a JSON object."),
    }


class List(fields.List):
    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be a list."),
    }


class Text(String):
    """A string with optional length bounds; numbers are accepted and turned into text."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be a string."),
        "too_long": Coded("too_long", "Must be at most {max} characters (got {length})."),
        "too_short": Coded("too_short", "Must be at least {min} characters."),
        "pattern": Coded("invalid_format", "{rule}"),
    }

    def __init__(
        self,
        *,
        min_length: int = 0,
        max_length: int | None = None,
        pattern: str | None = None,
        pattern_rule: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_rule = pattern_rule

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, int | float):
            value = format(value, "g") if isinstance(value, float) else str(value)
        text: str = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) < self.min_length:
            if self.min_length == 1:
                raise ValidationError(Coded("empty", "Must not be empty."))
            raise self.make_error("too_short", min=self.min_length)
        if self.max_length is not None and len(text) > self.max_length:
            raise self.make_error("too_long", max=self.max_length, length=len(text))
        if self.pattern and text and not self.pattern.fullmatch(text):
            raise self.make_error("pattern", rule=self.pattern_rule)
        return text


class Phone(String):
    """A phone number in any human format → E.164 with the plus sign.

    A number without a country code takes the root schema's ``default_region``; digits that start
    with a country code but lack the plus (``919876543210``) are understood too.
    """

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_phone", "Must be a phone number string."),
        "invalid_phone": Coded(
            "invalid_phone",
            "'{shown}' is not a valid phone number{hint}. Use international format, "
            "e.g. +447911123456.",
        ),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        raw = super()._deserialize(value, attr, data, **kwargs).strip()
        region = root_setting(self, "default_region")
        number = parse_phone(raw, region)
        if number is None:
            hint = "" if region else " (no country code, and no default region is set)"
            raise self.make_error("invalid_phone", shown=mask_phone(raw), hint=hint)
        return number


def parse_phone(raw: str, region: str | None) -> str | None:
    digits = re.sub(r"\D", "", raw)
    candidates = [raw]
    if raw.startswith("00"):
        candidates.insert(0, "+" + digits[2:])
    elif raw.isdigit() and len(raw) >= 11:
        # a bare digit string long enough to carry its country code (CleverTap sends "9198…");
        # a formatted local number such as "(435) 260-1234" is never re-homed this way
        candidates.append("+" + digits)
    for candidate in candidates:
        try:
            parsed = phonenumbers.parse(
                candidate, region if not candidate.startswith("+") else None
            )
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None


def mask_phone(value: str) -> str:
    """Keep only the last four digits of anything that looks like a phone number."""
    digits = re.sub(r"\D", "", value)
    if len(digits) <= 4:
        return "*" * len(digits)
    return "*" * (len(digits) - 4) + digits[-4:]


class Language(String):
    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_language", "Must be a language code string."),
        "unknown": Coded(
            "invalid_language",
            "'{value}' is not one of WhatsApp's template language codes{hint}.",
        ),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        code = super()._deserialize(value, attr, data, **kwargs).strip()
        if is_language(code):
            return code
        suggestion = suggest_language(code)
        hint = f" (did you mean '{suggestion}'?)" if suggestion else " (e.g. en, en_US, pt_BR)"
        raise self.make_error("unknown", value=code[:40], hint=hint)


class BodyParam(Text):
    """One body variable: Meta refuses newlines, tabs and runs of more than four spaces."""

    default_error_messages = {
        "control_chars": Coded(
            "invalid_body_param", "Must not contain a newline or a tab (WhatsApp error 132018)."
        ),
        "spaces": Coded(
            "invalid_body_param",
            "Must not contain more than 4 consecutive spaces (WhatsApp error 132018).",
        ),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(min_length=1, max_length=1024, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if re.search(r"[\n\r\t]", text):
            raise self.make_error("control_chars")
        if "     " in text:
            raise self.make_error("spaces")
        return text


class BodyParams(fields.List):
    """Body variables as a JSON list, a JSON-array string, or a comma-separated string."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_type", "Must be a list of strings."),
        "too_many": Coded("too_many", "At most {max} body variables are allowed."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(BodyParam(), **kwargs)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> list[Any | None]:
        value = split_list(value)
        try:
            result = super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as exc:
            # report positions as WhatsApp numbers them: body_params.1 is {{1}}
            if isinstance(exc.messages, dict):
                raise ValidationError({int(i) + 1: m for i, m in exc.messages.items()}) from None
            raise
        if len(result) > 100:
            raise self.make_error("too_many", max=100)
        return result


def split_list(value: Any) -> Any:
    """Accept the list shapes automation tools send: a list, a JSON array string, ``a,b,c``."""
    if isinstance(value, str):
        stripped = value.strip()
        if not stripped:
            return []
        if stripped.startswith("["):
            try:  # not a JSON array this reader takes (``[Sale] 20% off``): one literal value
                decoded = parse_json(stripped)
            except JsonRefused:
                return [value]
            return decoded if isinstance(decoded, list) else [value]
        return [part.strip() for part in stripped.split(",")]
    return value


MS_THRESHOLD = 10**12  # 2001-09-09 in epoch milliseconds; smaller integers are seconds/durations
MS_CEILING = 10**14  # year 5138: larger integers are micro- or nanoseconds
LATEST_EXPIRY_MS = 4_102_444_800_000  # 2100-01-01T00:00:00Z: later is a typo, not an offer
MAX_OFFER_S = 3660 * 86_400  # an offer ten years long is a mistake, not a plan


class ExpiresAt(fields.Field):
    """An absolute expiry: ISO-8601 with an offset, or epoch milliseconds → epoch ms (int)."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded(
            "invalid_expiry",
            "Must be an ISO-8601 time with a UTC offset (2025-07-01T13:00:00-05:00) "
            "or epoch milliseconds.",
        ),
        "naive": Coded(
            "invalid_expiry",
            "'{value}' has no UTC offset; add one, e.g. {value}Z or {value}+05:30.",
        ),
        "seconds": Coded(
            "expiry_not_milliseconds",
            "{value} looks like seconds or a duration, not epoch milliseconds "
            "(1209600000 is 14 days as a duration). Send epoch milliseconds such as "
            "{example}, an ISO-8601 time, or use expires_in (e.g. '14d').",
        ),
        "too_large": Coded(
            "invalid_expiry", "{value} is too large for epoch milliseconds (micro-seconds?)."
        ),
        "too_late": Coded("invalid_expiry", "{value} is not before the year 2100."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,20}(\.0*)?\s*", value):
            value = int(value.strip().split(".")[0])
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, int):
            if value < MS_THRESHOLD:
                now = root_setting(self, "now_ms")()
                example = now + 14 * 86_400_000
                raise self.make_error("seconds", value=value, example=example)
            if value >= MS_CEILING:
                raise self.make_error("too_large", value=value)
            if value >= LATEST_EXPIRY_MS:
                raise self.make_error("too_late", value=value)
            return value
        if not isinstance(value, str):
            raise self.make_error("invalid")
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError as exc:
            raise self.make_error("invalid") from exc
        if moment.tzinfo is None:
            raise self.make_error("naive", value=text[:40])
        ms = int(moment.timestamp() * 1000)
        if ms >= LATEST_EXPIRY_MS:
            raise self.make_error("too_late", value=text[:40])
        return ms


_DURATION = re.compile(r"^(\d{1,9})\s*(d|h|m|s)$", re.IGNORECASE)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)S)?)?$",
    re.IGNORECASE,
)
_UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


class ExpiresIn(fields.Field):
    """A relative expiry: ``14d``, ``48h``, ``90m`` or ISO-8601 ``P14D``/``PT48H`` → seconds."""

    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded(
            "invalid_duration",
            "Must be a duration such as 14d, 48h, 90m, P14D or PT48H.",
        ),
        "zero": Coded("invalid_duration", "Must be longer than zero."),
        "too_long": Coded("invalid_duration", "Must be at most 3660 days (ten years)."),
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        seconds = parse_duration(value.strip())
        if seconds is None:
            raise self.make_error("invalid")
        if seconds <= 0:
            raise self.make_error("zero")
        if seconds > MAX_OFFER_S:
            raise self.make_error("too_long")
        return seconds


def parse_duration(text: str) -> int | None:
    match = _DURATION.match(text)
    if match:
        return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    match = _ISO_DURATION.match(text)
    if match and text.upper() not in ("P", "PT") and not text.upper().endswith("T"):
        return sum(int(v) * _UNIT_SECONDS[k] for k, v in match.groupdict().items() if v)
    return None


class MediaId(Text):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            max_length=64, pattern=r"\d+", pattern_rule="Must be a numeric media id.", **kwargs
        )


class MediaUrl(fields.Url):
    default_error_messages = {
        **COMMON_ERRORS,
        "invalid": Coded("invalid_url", "Must be an http(s) URL."),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(schemes={"https", "http"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        return check_text(text)


# marshmallow compiles its URL pattern on first use (28 ms), and every request thread that finds
# it not yet compiled compiles its own: the first burst of offers with a header URL stalled each
# web process for about a second. Compiled here, once, at import.
validate.URL(schemes={"https"})("https://example.com/")
