"""Lint a HubSpot action definition with HubSpot's own Python client models, strictly.

``hubspot-api-client``'s models check required keys and enums only with
``client_side_validation`` on, and even then they have known false rejections, definitions
HubSpot itself accepts (its own examples, and real 201s):
  1. a typeDefinition without ``options`` or ``externalOptions``;
  2. an option with only ``label`` and ``value`` (the models require all seven option keys);
  3. a ``SINGLE_FIELD`` dependency (the list's element model knows CONDITIONAL_SINGLE_FIELD only).
``lint`` pads a copy for 1 and 2, checks 3 with ``PublicSingleFieldDependency`` on its own, then
deserialises the rest. The models also drop unknown keys silently (a typo passes), so ``lint``
walks their ``attribute_map``s and reports every key they do not know.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from hubspot.automation.actions import ApiClient, Configuration
from hubspot.automation.actions import models as hubspot_models

DEFINITION = "PublicActionDefinitionEgg"


def strict_client() -> ApiClient:
    config = Configuration()
    config.client_side_validation = True  # off by default: nothing would be checked
    return ApiClient(configuration=config)


def unknown_keys(data: Any, klass: Any = DEFINITION, path: str = "$") -> list[str]:
    """JSON paths of keys the models do not know (they would be silently dropped)."""
    out: list[str] = []
    if isinstance(klass, str):
        listed = re.fullmatch(r"list\[(.*)\]", klass)
        if listed:
            for i, item in enumerate(data if isinstance(data, list) else []):
                out += unknown_keys(item, listed.group(1), f"{path}[{i}]")
            return out
        mapped = re.fullmatch(r"dict\(str, (.*)\)|dict\[str, (.*)\]", klass)
        if mapped:
            for key, value in (data if isinstance(data, dict) else {}).items():
                out += unknown_keys(value, mapped.group(1) or mapped.group(2), f"{path}.{key}")
            return out
        klass = getattr(hubspot_models, klass, None)
    if klass is None or not hasattr(klass, "attribute_map") or not isinstance(data, dict):
        return out
    attributes = {json_key: attr for attr, json_key in klass.attribute_map.items()}
    if klass.__name__ == "PublicActionDefinitionInputFieldDependenciesInner":
        attributes["controllingFieldValue"] = "controlling_field_value"
    for key, value in data.items():
        if key not in attributes:
            out.append(f"{path}.{key}")
        else:
            out += unknown_keys(value, klass.openapi_types[attributes[key]], f"{path}.{key}")
    return out


def _pad(type_definition: dict[str, Any]) -> None:
    type_definition.setdefault("options", [])
    type_definition.setdefault("externalOptions", False)
    for i, option in enumerate(type_definition["options"]):
        defaults = {"hidden": False, "displayOrder": i, "doubleData": 0, "readOnly": False}
        for key, value in {**defaults, "description": ""}.items():
            option.setdefault(key, value)


def lint(definition: dict[str, Any]) -> list[str]:
    """Every problem HubSpot's models find, after the known false rejections are set aside."""
    problems = [f"unknown key {path}" for path in unknown_keys(definition)]
    client = strict_client()
    padded = copy.deepcopy(definition)
    for field in padded.get("inputFields", []) + padded.get("outputFields", []):
        _pad(field["typeDefinition"])
    single = [
        d for d in padded.get("inputFieldDependencies", []) if d["dependencyType"] == "SINGLE_FIELD"
    ]
    padded["inputFieldDependencies"] = [
        d for d in padded.get("inputFieldDependencies", []) if d not in single
    ]
    for dependency in single:
        try:
            client._ApiClient__deserialize(dependency, "PublicSingleFieldDependency")  # type: ignore[attr-defined]
        except (ValueError, TypeError) as exc:
            problems.append(f"inputFieldDependencies: {exc}")
    try:
        client._ApiClient__deserialize(padded, DEFINITION)  # type: ignore[attr-defined]
    except (ValueError, TypeError) as exc:
        problems.append(str(exc))
    return problems
