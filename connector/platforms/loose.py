"""The tolerant offer input used by automation tools (Zapier, HubSpot).

Such tools send what a person mapped by hand: form or JSON, nested objects or ``a__b`` keys,
``Body Params`` instead of ``body_params``, blank optional fields, and body variables as a list,
a JSON-array string, a comma string or ``body_1..body_n``. ``LooseOfferSchema`` folds all of that
into the canonical fields before the offer rules run; a key it cannot place is still an error.
"""

from __future__ import annotations

import re
from typing import Any

from marshmallow import ValidationError

from ..errors import Coded
from ..offer import OfferSchema

ALIASES = {
    "phone": "to",
    "phone_number": "to",
    "mobile": "to",
    "whatsapp_number": "to",
    "template": "template_name",
    "language_code": "language",
    "coupon": "coupon_code",
    "body_variables": "body_params",
    "template_variables": "body_params",
    "offer_expires_at": "expires_at",
    "offer_expires_in": "expires_in",
    "offer_expiry": "expires_at",
    "expiration_time_ms": "expires_at",
    "lto_template": "template_name",
    "media_url": "header_image_url",
    "image_url": "header_image_url",
    "url_suffix": "url_param",
}
BODY_N = re.compile(r"^body_?(?:param_?|variable_?)?(\d{1,3})$")


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}__{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


def normalise_key(key: str) -> str:
    key = re.sub(r"[\s.\-]+|_{2,}", "_", key.strip().lower()).strip("_")
    return ALIASES.get(key, key)


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


class LooseOfferSchema(OfferSchema):
    def fold(self, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        folded: dict[str, Any] = {}
        numbered: dict[int, Any] = {}
        for raw_key, value in flatten(data).items():
            if blank(value):
                continue
            key = normalise_key(raw_key)
            match = BODY_N.match(key)
            target = numbered if match else folded
            slot: Any = int(match.group(1)) if match else key
            if slot in target and target[slot] != value:
                name = f"body_{slot}" if match else key
                raise ValidationError(
                    {
                        name: [
                            Coded(
                                "conflicting_fields",
                                f"Given twice under different names (e.g. '{raw_key}').",
                            )
                        ]
                    }
                )
            target[slot] = value
        if numbered:
            if "body_params" in folded:
                raise ValidationError(
                    {
                        "body_params": [
                            Coded(
                                "conflicting_fields",
                                "Give body_params or body_1..body_n, not both.",
                            )
                        ]
                    }
                )
            expected = list(range(1, len(numbered) + 1))
            if sorted(numbered) != expected:
                missing = sorted(set(range(1, max(numbered) + 1)) - set(numbered))
                raise ValidationError(
                    {
                        f"body_{n}": [
                            Coded(
                                "required",
                                f"body_{n} is missing: body variables are "
                                "numbered 1, 2, 3 ... without gaps.",
                            )
                        ]
                        for n in missing
                    }
                )
            folded["body_params"] = [numbered[n] for n in expected]
        return folded
