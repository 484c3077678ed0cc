"""Template shapes: what an approved LTO template takes, declared per connection.

Meta refuses a send whose parameters do not fit the template (#132000 "number of parameters does
not match"), but only at send time, after the platform was told "accepted". A declared shape lets
the connector refuse such an offer at once, naming the mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import RAISE, Schema, fields, post_load, validate

from .errors import InvalidInput
from .offer import Offer


@dataclass(frozen=True)
class TemplateShape:
    header: str | None = None  # "image" | "video" | "none"; None: not declared
    body_params: int | None = None
    coupon: bool | None = None  # has a copy-code button
    url: bool | None = None  # has a URL button with a variable
    expiry: bool | None = None  # shows the offer's expiration
    label: str | None = None  # shown in template pickers


class TemplateShapeSchema(Schema):
    class Meta:
        unknown = RAISE

    header = fields.String(load_default=None, validate=validate.OneOf(["image", "video", "none"]))
    body_params = fields.Integer(load_default=None, strict=True, validate=validate.Range(0, 100))
    coupon = fields.Boolean(load_default=None)
    url = fields.Boolean(load_default=None)
    expiry = fields.Boolean(load_default=None)
    label = fields.String(load_default=None)

    @post_load
    def make(self, data: dict[str, Any], **kwargs: Any) -> TemplateShape:
        return TemplateShape(**data)


def mismatches(name: str, shape: TemplateShape, offer: Offer) -> dict[str, str]:
    """Each field of ``offer`` that does not fit ``shape``, with a sentence saying how."""
    out: dict[str, str] = {}
    t = f"Template {name}"
    if shape.header is not None:
        given = offer.header.kind if offer.header else "none"
        if given != shape.header:
            field = f"header_{given}_url" if offer.header else f"header_{shape.header}_url"
            out[field] = (
                f"{t} has no header; remove the {given} header."
                if shape.header == "none"
                else f"{t} has a {shape.header} header; give header_{shape.header}_url or "
                f"header_{shape.header}_id" + (f", not a {given} header." if offer.header else ".")
            )
    if shape.body_params is not None and len(offer.body_params) != shape.body_params:
        out["body_params"] = (
            f"{t} takes {shape.body_params} body variable(s); got {len(offer.body_params)} "
            "(WhatsApp would refuse it with #132000)."
        )
    for field, has, what in (
        ("coupon_code", shape.coupon, "copy-code coupon"),
        ("url_param", shape.url, "URL button variable"),
    ):
        present = getattr(offer, field) is not None
        if has is not None and present != has:
            out[field] = (
                f"{t} takes a {what}; give {field}."
                if has
                else f"{t} takes no {what}; remove {field}."
            )
    if shape.expiry is not None and (offer.expiration_ms is not None) != shape.expiry:
        out["expires_at"] = (
            f"{t} shows an offer expiry; give expires_at or expires_in."
            if shape.expiry
            else f"{t} shows no offer expiry; remove expires_at/expires_in."
        )
    return out


def check_shape(templates: dict[str, TemplateShape] | Any, offer: Offer) -> None:
    shape = templates.get(offer.template_name)
    if shape is None:
        return
    found = mismatches(offer.template_name, shape, offer)
    if found:
        errors = {k: [{"code": "template_mismatch", "message": v}] for k, v in found.items()}
        summary = "; ".join(f"{k}: {v}" for k, v in found.items())
        raise InvalidInput(summary, code="template_mismatch", errors=errors)


def catalog(
    templates: dict[str, TemplateShape] | Any, default: str | None = None
) -> list[dict[str, Any]]:
    """The templates a connection declares (and its default one), as pickers list them: ``id``
    is the template name, ``label`` what a person reads; the shape says what each one takes."""
    names = sorted(templates)
    if default and default not in templates:
        names.insert(0, default)
    out = []
    for name in names:
        shape = templates.get(name) or TemplateShape()
        out.append(
            {
                "id": name,
                "label": shape.label or name,
                "default": name == default,
                "header": shape.header,
                "body_params": shape.body_params,
                "coupon": shape.coupon,
                "url": shape.url,
                "expiry": shape.expiry,
            }
        )
    return out


def describe(entry: dict[str, Any]) -> str:
    """One line saying what a catalog entry's template takes, e.g. "image header, 2 body
    variables, coupon, expiry"."""
    parts = []
    if entry["header"] in ("image", "video"):
        parts.append(f"{entry['header']} header")
    if entry["body_params"] is not None:
        parts.append(f"{entry['body_params']} body variable(s)")
    parts += [what for what in ("coupon", "url", "expiry") if entry[what]]
    if entry["default"]:
        parts.append("the connection's default")
    return ", ".join(parts) or "shape not declared"


__all__ = [
    "TemplateShape",
    "TemplateShapeSchema",
    "catalog",
    "check_shape",
    "describe",
    "mismatches",
]
