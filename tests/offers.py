"""A complete, valid canonical offer for tests and benchmarks (no pytest needed)."""

from __future__ import annotations

from typing import Any


def offer(**overrides: Any) -> dict[str, Any]:
    """A complete, valid canonical offer (the API page's sample, with a real expiry)."""
    data: dict[str, Any] = {
        "to": "+919876543210",
        "template_name": "lto_template",
        "language": "en_US",
        "header_image_id": "1602186516975000",
        "body_params": ["Pablo", "CARIBE25"],
        "expires_in": "14d",
        "coupon_code": "CARIBE25",
        "url_param": "n3mtql",
        "ref": "customer1",
        "ref1": "marketing",
        "ref2": "dictionary",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
