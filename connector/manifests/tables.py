"""The field tables the README shows for each manifest, made from the manifests themselves.

``manifests build`` writes each table between ``<!-- fields:NAME -->`` and ``<!-- /fields:NAME -->``
in the README, and ``manifests check`` fails when one differs, so the README cannot drift either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from . import hubspot, shopify_flow, zapier


def _table(header: tuple[str, ...], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


def zapier_fields() -> str:
    operation = zapier.definition()["creates"][zapier.CREATE_KEY]["operation"]
    rows = []
    for field in operation["inputFields"]:
        kind = "list of text" if field.get("list") else field["type"]
        if field.get("dynamic"):
            kind = "dropdown (`GET /v1/templates`)"
        required = "yes" if field["required"] else ""
        rows.append((f"`{field['key']}`", field["label"], kind, required, field["helpText"]))
    return _table(("key", "label", "type", "required", "help"), rows)


def hubspot_fields(public_url: str) -> str:
    action = hubspot.definition(public_url)
    labels = action["labels"]["en"]
    shown_when = {
        name: f"{dep['controllingFieldName']} = {dep['controllingFieldValue']}"
        for dep in action["inputFieldDependencies"]
        if dep["dependencyType"] == "CONDITIONAL_SINGLE_FIELD"
        for name in dep["dependentFieldNames"]
    }
    shown_when.update(
        {
            name: f"{dep['controllingFieldName']} is filled"
            for dep in action["inputFieldDependencies"]
            if dep["dependencyType"] == "SINGLE_FIELD"
            for name in dep["dependentFieldNames"]
        }
    )
    rows = []
    for field in action["inputFields"]:
        definition: dict[str, Any] = field["typeDefinition"]
        name = definition["name"]
        values = " or ".join(
            {"OBJECT_PROPERTY": "property", "STATIC_VALUE": "value"}[v]
            for v in field["supportedValueTypes"]
        )
        kind = f"{definition['type']} / {definition['fieldType']}"
        rows.append(
            (f"`{name}`", labels["inputFieldLabels"][name], kind, values,
             "yes" if field["isRequired"] else "", shown_when.get(name, "always"))
        )  # fmt: skip
    return _table(("name", "label", "type / fieldType", "takes", "required", "shown"), rows)


def flow_fields(public_url: str) -> str:
    fields = shopify_flow.extension(public_url)["settings"]["fields"]
    rows = [
        (f"`{f['key']}`", f["name"], f["type"], "yes" if f["required"] else "", f["description"])
        for f in fields
    ]
    return _table(("key", "name", "type", "required", "description"), rows)


def blocks(public_url: str) -> dict[str, str]:
    return {
        "zapier": zapier_fields(),
        "hubspot": hubspot_fields(public_url),
        "shopify-flow": flow_fields(public_url),
    }


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- fields:{re.escape(name)} -->\n)(.*?)\n?(<!-- /fields:{name} -->)", re.S
    )


def _replacement(table: str) -> Callable[[re.Match[str]], str]:
    return lambda found: found.group(1) + table + "\n" + found.group(3)


def fill(readme: str, public_url: str) -> str:
    """The README with every field table replaced by the generated one."""
    for name, table in blocks(public_url).items():
        readme = _pattern(name).sub(_replacement(table), readme)
    return readme


def stale(readme: str, public_url: str) -> list[str]:
    """The tables that are missing from the README or differ from the manifests."""
    out = []
    for name, table in blocks(public_url).items():
        found = _pattern(name).search(readme)
        if found is None:
            out.append(f"README has no <!-- fields:{name} --> table")
        elif found.group(2) != table:
            out.append(f"README's {name} field table differs")
    return out
