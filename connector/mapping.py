"""Low-code mappings: where each offer field comes from in a body the user composed.

Braze, Zoho, MoEngage, Eloqua and Responsys post whatever JSON or form their user wrote. A mapping
in the connections file names, per offer field, its source in that body:

- ``user.phone`` — a dotted path (``items.0.sku`` and ``items[0].sku`` index lists);
- ``"Hi {{user.first_name}}"`` — a small template filled from paths;
- ``{value: diwali_lto}`` — a literal;
- ``{path: event.coupon, default: SAVE10}`` (or ``template:``) — with a default when missing.

``body_params`` takes a list of sources (or one path to a list). ``dedupe_key`` names what
identifies one delivery. ``each: items`` makes every element of that list one message: paths are
then read from the element first, then from the whole body. Mappings are compiled, and every
mistake reported, at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .errors import InvalidInput

OFFER_FIELDS = (
    "to",
    "template_name",
    "language",
    "header_image_id",
    "header_image_url",
    "header_video_id",
    "header_video_url",
    "body_params",
    "expires_at",
    "expires_in",
    "coupon_code",
    "url_param",
    "ref",
    "ref1",
    "ref2",
    "idempotency_key",
)
MAPPABLE = (*OFFER_FIELDS, "dedupe_key", "each")
_SEGMENT = r"[^.\[\]{}\s][^.\[\]{}]*"
PATH = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT}|\[\d+\])*$")
PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
MISSING = object()


class MappingError(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def split_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    for piece in re.findall(r"\[(\d+)\]|([^.\[\]]+)", path):
        index, key = piece
        parts.append(int(index) if index else (int(key) if key.isdigit() else key))
    return parts


@dataclass(frozen=True)
class Layered:
    """One element of an ``each`` list, over the whole body: paths try the element first."""

    item: Any
    body: Any


def resolve(data: Any, parts: list[str | int]) -> Any:
    if isinstance(data, Layered):
        found = resolve(data.item, parts)
        return found if found is not MISSING else resolve(data.body, parts)
    for part in parts:
        if isinstance(data, dict):
            if part in data:
                data = data[part]
            elif str(part) in data:
                data = data[str(part)]
            else:
                return MISSING
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return MISSING
    return data


def empty(value: Any) -> bool:
    return value is MISSING or value is None or value == "" or value == []


@dataclass(frozen=True)
class Source:
    """One place a value comes from: a path, a template or a literal, with a default."""

    kind: str  # "path" | "template" | "value"
    spec: Any
    default: Any = MISSING
    parts: tuple[Any, ...] = field(default=(), compare=False)

    def describe(self) -> str:
        return {"path": f"'{self.spec}'", "template": f"'{self.spec}'"}.get(self.kind, "a literal")

    def read(self, body: Any, target: str) -> Any:
        """The value, ``MISSING`` when a path is absent; an empty placeholder is an error."""
        if self.kind == "value":
            return self.spec
        if self.kind == "path":
            value = resolve(body, list(self.parts))
            return self.default if empty(value) else value
        holes = {}
        for placeholder in PLACEHOLDER.finditer(self.spec):
            value = resolve(body, split_path(placeholder.group(1)))
            if empty(value):
                if self.default is not MISSING:
                    return self.default
                message = (
                    f"{{{{{placeholder.group(1)}}}}} is empty or missing in this request, "
                    f"so {target} would be blank."
                )
                raise InvalidInput(
                    f"{target}: {message}",
                    code="mapped_value_missing",
                    errors={target: [{"code": "mapped_value_missing", "message": message}]},
                )
            holes[placeholder.group(1)] = value
        return PLACEHOLDER.sub(lambda m: _text(holes[m.group(1)]), self.spec)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def compile_source(spec: Any, where: str, problems: list[str]) -> Source | None:
    if isinstance(spec, dict):
        keys = set(spec) - {"default"}
        if len(keys) != 1 or next(iter(keys)) not in ("path", "template", "value"):
            problems.append(
                f"{where}: give one of path, template or value (and optionally default), "
                f"not {sorted(spec)}"
            )
            return None
        kind = next(iter(keys))
        if kind == "value" and "default" in spec:
            problems.append(f"{where}: a literal value needs no default")
            return None
        source = compile_source(spec[kind], where, problems) if kind != "value" else None
        if kind == "value":
            return Source("value", spec["value"])
        if source is None:
            return None
        if kind == "template" and source.kind != "template":
            source = Source("template", spec[kind])
        return Source(source.kind, source.spec, spec.get("default", MISSING), source.parts)
    if isinstance(spec, bool | int | float):
        return Source("value", spec)
    if not isinstance(spec, str) or not spec.strip():
        problems.append(f"{where}: must be a path, a template or {{value: ...}}, not {spec!r}")
        return None
    if "{{" in spec or "}}" in spec:
        for placeholder in PLACEHOLDER.finditer(spec):
            if not PATH.match(placeholder.group(1)):
                problems.append(f"{where}: {{{{{placeholder.group(1)}}}}} is not a path")
        if spec.count("{{") != len(PLACEHOLDER.findall(spec)):
            problems.append(f"{where}: unbalanced {{{{ }}}} in {spec!r}")
        return Source("template", spec)
    if not PATH.match(spec.strip()):
        problems.append(f"{where}: {spec!r} is not a dotted path such as user.phone or items.0.id")
        return None
    return Source("path", spec.strip(), parts=tuple(split_path(spec.strip())))


@dataclass(frozen=True)
class FieldMapping:
    fields: dict[str, Source | list[Source]]
    each: str | None = None  # a path to a list: one message per element

    def apply(self, body: Any) -> tuple[dict[str, Any], str | None]:
        """The offer fields found in ``body``, and the delivery's dedupe key if mapped."""
        out: dict[str, Any] = {}
        dedupe: str | None = None
        for name, source in self.fields.items():
            if isinstance(source, list):
                values = [s.read(body, f"{name}[{i}]") for i, s in enumerate(source)]
                value: Any = ["" if v is MISSING or v is None else _text(v) for v in values]
            else:
                value = source.read(body, name)
            if empty(value):
                continue
            if name == "dedupe_key":
                dedupe = _text(value)[:200]
            else:
                out[name] = value
        return out, dedupe

    def explain(self, error: InvalidInput) -> InvalidInput:
        """Point each failing mapped field at the place it was read from."""
        for name, items in error.errors.items():
            base = name.split(".")[0].split("[")[0]
            source = self.fields.get(base)
            if isinstance(source, Source) and source.kind != "value":
                for item in items:
                    item["message"] += f" (mapped from {source.describe()})"
        error.message = "; ".join(
            f"{k}: {i['message']}" for k, items in error.errors.items() for i in items
        )
        return error


def compile_mapping(spec: Any) -> FieldMapping:
    if not isinstance(spec, dict):
        raise MappingError(["must map offer fields to sources, e.g. {to: user.phone}"])
    problems: list[str] = []
    compiled: dict[str, Source | list[Source]] = {}
    each = spec.get("each")
    if each is not None and (not isinstance(each, str) or not PATH.match(each)):
        problems.append(f"each: {each!r} must be a dotted path to a list, such as items")
    for name, value in spec.items():
        if name == "each":
            continue
        if name not in MAPPABLE:
            problems.append(f"{name}: not an offer field (use one of {', '.join(MAPPABLE)})")
            continue
        if isinstance(value, list):
            if name != "body_params":
                problems.append(f"{name}: only body_params takes a list of sources")
                continue
            sources = [compile_source(v, f"{name}[{i}]", problems) for i, v in enumerate(value)]
            if all(s is not None for s in sources):
                compiled[name] = [s for s in sources if s is not None]
            continue
        source = compile_source(value, name, problems)
        if source is not None:
            compiled[name] = source
    if problems:
        raise MappingError(problems)
    return FieldMapping(compiled, each if isinstance(each, str) else None)


def fill_query(args: Any, record: Any, skip: tuple[str, ...] = ("api_key",)) -> dict[str, Any]:
    """Offer fields given in a webhook URL's query, ``{{path}}`` placeholders filled from the
    record (``?template_name=lto_cart&body_1={{customer.first_name}}``)."""
    out: dict[str, Any] = {}
    for key in args:
        if key in skip:
            continue
        values = [fill_template(key, v, record) if "{{" in v else v for v in args.getlist(key)]
        out[key] = values[0] if len(values) == 1 else values
    return out


def fill_template(key: str, template: str, record: Any) -> str:
    """``template`` with each ``{{path}}`` filled from ``record``."""
    check_placeholders(key, template)
    return str(Source("template", template).read(record, key))


def check_placeholders(key: str, template: str, path: re.Pattern[str] = PATH) -> None:
    """A placeholder that is not a path (``{{}}`` would read the whole record) or an unclosed
    ``{{`` is refused, naming ``key``: never a silently odd value."""
    found = PLACEHOLDER.findall(template)
    bad = next((inner for inner in found if not path.match(inner)), None)
    if bad is not None or template.count("{{") != len(found):
        shown = f"{{{{{bad}}}}}" if bad is not None else "'{{' without its '}}'"
        message = (
            f"{shown} is not a placeholder: write {{{{path}}}} with a path into the body, "
            "e.g. {{customer.first_name}}."
        )
        raise InvalidInput(
            f"{key}: {message}",
            code="invalid_placeholder",
            errors={key: [{"code": "invalid_placeholder", "message": message}]},
        )
