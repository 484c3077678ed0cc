"""HubSpot's custom workflow action definition format (automation actions v4), as a strict model.

Stricter than HubSpot's own Python client (``hubspot-api-client``), whose models drop unknown keys
and turn ``"false"`` into ``True``: here an unknown key, a wrong type, a type/fieldType pair the
CRM does not allow, a label for a field that does not exist, or an execution rule without an
English label is an error naming where it is. ``validate(definition)`` returns every problem.
"""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

TYPES = ("string", "number", "bool", "enumeration", "date", "datetime", "phone_number")
# the CRM's type → fieldType pairs, which HubSpot's action docs point to
FIELD_TYPES = {
    "string": {"text", "textarea", "file", "html", "phonenumber"},
    "number": {"number"},
    "bool": {"booleancheckbox"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select"},
    "date": {"date"},
    "datetime": {"date"},
    "phone_number": {"phonenumber"},
}
VALUE_TYPES = ("OBJECT_PROPERTY", "STATIC_VALUE")
OBJECT_TYPES = ("CONTACT", "COMPANY", "DEAL", "TICKET", "QUOTE", "LINE_ITEM")
NAME = validate.Regexp(r"^[a-z][a-z0-9_]*$", error="Must be snake_case: a-z, 0-9 and _.")
HTTPS = fields.Url(required=True, schemes={"https"})


class JsonBoolean(fields.Boolean):
    """true or false, as JSON writes them: not "false", not 0."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("Must be true or false (a JSON boolean).")
        return value


class Strict(Schema):
    class Meta:
        unknown = RAISE


class OptionSchema(Strict):
    label = fields.String(required=True, validate=validate.Length(min=1))
    value = fields.String(required=True, validate=validate.Length(min=1))
    description = fields.String()
    displayOrder = fields.Integer(strict=True)


class TypeDefinitionSchema(Strict):
    name = fields.String(required=True, validate=NAME)
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    fieldType = fields.String(required=True)
    options = fields.List(fields.Nested(OptionSchema))
    optionsUrl = fields.Url(schemes={"https"})
    description = fields.String()
    helpText = fields.String()
    label = fields.String()

    @validates_schema
    def pairs(self, data: dict[str, Any], **kwargs: Any) -> None:
        allowed = FIELD_TYPES.get(data.get("type", ""), set())
        if data.get("fieldType") not in allowed:
            raise ValidationError(
                f"fieldType {data.get('fieldType')!r} is not allowed with type "
                f"{data.get('type')!r} (allowed: {', '.join(sorted(allowed))}).",
                "fieldType",
            )
        is_choice = data.get("type") == "enumeration"
        if is_choice and not data.get("options") and not data.get("optionsUrl"):
            raise ValidationError("An enumeration needs options or an optionsUrl.", "options")
        if not is_choice and (data.get("options") or data.get("optionsUrl")):
            raise ValidationError("Only an enumeration takes options.", "options")


class InputFieldSchema(Strict):
    typeDefinition = fields.Nested(TypeDefinitionSchema, required=True)
    supportedValueTypes = fields.List(
        fields.String(validate=validate.OneOf(VALUE_TYPES)),
        required=True,
        validate=validate.Length(min=1),
    )
    isRequired = JsonBoolean(required=True)


class OutputFieldSchema(Strict):
    typeDefinition = fields.Nested(TypeDefinitionSchema, required=True)


class DependencySchema(Strict):
    dependencyType = fields.String(
        required=True, validate=validate.OneOf(("SINGLE_FIELD", "CONDITIONAL_SINGLE_FIELD"))
    )
    controllingFieldName = fields.String(required=True)
    controllingFieldValue = fields.String()
    dependentFieldNames = fields.List(
        fields.String(), required=True, validate=validate.Length(min=1)
    )

    @validates_schema
    def conditional_value(self, data: dict[str, Any], **kwargs: Any) -> None:
        conditional = data.get("dependencyType") == "CONDITIONAL_SINGLE_FIELD"
        if conditional != ("controllingFieldValue" in data):
            raise ValidationError(
                "controllingFieldValue is given with CONDITIONAL_SINGLE_FIELD, and only then.",
                "controllingFieldValue",
            )


class LabelsSchema(Strict):
    actionName = fields.String(required=True, validate=validate.Length(min=1))
    actionDescription = fields.String()
    appDisplayName = fields.String()
    actionCardContent = fields.String()
    inputFieldLabels = fields.Dict(keys=fields.String(), values=fields.String())
    inputFieldDescriptions = fields.Dict(keys=fields.String(), values=fields.String())
    inputFieldOptionLabels = fields.Dict(
        keys=fields.String(), values=fields.Dict(keys=fields.String(), values=fields.String())
    )
    outputFieldLabels = fields.Dict(keys=fields.String(), values=fields.String())
    executionRules = fields.Dict(keys=fields.String(), values=fields.String())


class ExecutionRuleSchema(Strict):
    labelName = fields.String(required=True)
    conditions = fields.Dict(required=True, validate=validate.Length(min=1))


class FunctionSchema(Strict):
    functionType = fields.String(
        required=True,
        validate=validate.OneOf(
            (
                "PRE_ACTION_EXECUTION",
                "PRE_FETCH_OPTIONS",
                "POST_FETCH_OPTIONS",
                "POST_ACTION_EXECUTION",
            )
        ),
    )
    functionSource = fields.String(required=True)
    id = fields.String()


class ObjectRequestOptionsSchema(Strict):
    properties = fields.List(fields.String(), required=True)


class ActionDefinitionSchema(Strict):
    actionUrl = HTTPS
    published = JsonBoolean(required=True)
    objectTypes = fields.List(
        fields.String(validate=validate.OneOf(OBJECT_TYPES)),
        required=True,
        validate=validate.Length(min=1),
    )
    objectRequestOptions = fields.Nested(ObjectRequestOptionsSchema)
    inputFields = fields.List(fields.Nested(InputFieldSchema), required=True)
    inputFieldDependencies = fields.List(fields.Nested(DependencySchema))
    outputFields = fields.List(fields.Nested(OutputFieldSchema))
    labels = fields.Dict(keys=fields.String(), values=fields.Nested(LabelsSchema), required=True)
    executionRules = fields.List(fields.Nested(ExecutionRuleSchema))
    functions = fields.List(fields.Nested(FunctionSchema))

    @validates_schema
    def references(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Every name a label, dependency or rule uses exists, and English labels cover all."""
        problems: dict[str, list[str]] = {}
        inputs = [f["typeDefinition"]["name"] for f in data.get("inputFields", [])]
        outputs = [f["typeDefinition"]["name"] for f in data.get("outputFields", [])]
        rules = [r["labelName"] for r in data.get("executionRules", [])]
        for what, names in (("inputFields", inputs), ("outputFields", outputs)):
            twice = sorted({n for n in names if names.count(n) > 1})
            if twice:
                problems.setdefault(what, []).append(f"Names used twice: {twice}.")
        for i, dep in enumerate(data.get("inputFieldDependencies", [])):
            unknown = {dep["controllingFieldName"], *dep["dependentFieldNames"]} - set(inputs)
            if unknown:
                problems.setdefault(f"inputFieldDependencies.{i}", []).append(
                    f"Unknown input fields: {sorted(unknown)}."
                )
        labels = data.get("labels", {})
        if "en" not in labels:
            problems.setdefault("labels", []).append("English labels (en) are required.")
        for lang, label in labels.items():
            for key, names, complete in (
                ("inputFieldLabels", inputs, lang == "en"),
                ("inputFieldOptionLabels", inputs, False),
                ("outputFieldLabels", outputs, lang == "en"),
                ("executionRules", rules, True),
            ):
                given = set(label.get(key, {}))
                extra, missing = given - set(names), set(names) - given
                if extra:
                    problems.setdefault(f"labels.{lang}.{key}", []).append(
                        f"Labels for names that do not exist: {sorted(extra)}."
                    )
                if complete and missing:
                    problems.setdefault(f"labels.{lang}.{key}", []).append(
                        f"No label for: {sorted(missing)}."
                    )
        if problems:
            raise ValidationError(problems)


def validate_definition(definition: Any) -> dict[str, Any]:
    """Every problem of a definition, keyed by where it is (empty when it is valid)."""
    try:
        ActionDefinitionSchema().load(definition)
    except ValidationError as exc:
        return exc.normalized_messages()
    return {}
