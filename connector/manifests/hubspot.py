"""The HubSpot custom workflow action (``manifests/hubspot/action-definition.json``).

The body to ``POST /automation/v4/actions/{appId}``: the action posts to ``/hooks/hubspot/action``
for a contact or a deal; the recipient is a phone property (else the record's WhatsApp, mobile
or phone number, which ``objectRequestOptions`` asks HubSpot to send); the template is picked
from the connector's ``optionsUrl``; select fields choose the header and the expiry, so only
fields that can be sent together are shown. Each ``errorCode`` of a FAIL_CONTINUE answer has an
execution rule and an English label.
"""

from __future__ import annotations

from typing import Any

from ..hubspot_callbacks import FINAL
from ..platforms.hubspot import CHOICES, FAIL_CODES, PHONE_PROPERTIES, WAIT_FIELD, WAIT_OPTIONS
from .catalog import ManifestField, by_key
from .render import as_json

BODY_VARIABLES = 5
BOTH = ["OBJECT_PROPERTY", "STATIC_VALUE"]
STATIC = ["STATIC_VALUE"]
PROPERTY = ["OBJECT_PROPERTY"]
CHOICE_LABELS = {
    "header_type": (
        "Header",
        "Whether the template's header is an image or a video.",
        {"none": "No header", "image": "Image", "video": "Video"},
    ),
    "expiry_type": (
        "Offer expiry",
        "When the offer ends: the connection's default lifetime, a date, or a duration.",
        {"default": "The connection's default", "at": "Ends at a date", "in": "Lasts for"},
    ),
}
FAIL_LABELS = {
    "INVALID_PHONE": "The WhatsApp number is not valid: {{errorMessage}}",
    "INVALID_OFFER": "The offer was not sent, a field is wrong: {{errorMessage}}",
    "KALEYRA_REJECTED": "Kaleyra refused the message: {{errorMessage}}",
    "KALEYRA_ACCOUNT_ERROR": "The Kaleyra account cannot send (credentials, sender or API "
    "access): {{errorMessage}}",
    "KALEYRA_LOW_BALANCE": "The Kaleyra account's balance is too low: {{errorMessage}}",
    "DELIVERY_UNCERTAIN": "Kaleyra did not confirm the message; it was not sent again, to "
    "avoid a duplicate: {{errorMessage}}",
    "IDEMPOTENCY_CONFLICT": "This execution was already used for a different offer: "
    "{{errorMessage}}",
    "NOT_DELIVERED": "WhatsApp did not deliver the offer: {{errorMessage}}",
}
WAIT_LABELS = {"no": "No, go on once Kaleyra accepts it", "yes": "Yes, wait for the status"}
# what a workflow that waited can branch on
OUTPUT_LABELS = {
    "message_id": "Kaleyra message id",
    "event_id": "Connector event id",
    "delivery_status": "Delivery status",
    "delivery_error_code": "Delivery error code",
    "delivery_error_reason": "Delivery error reason",
}


class Inputs:
    """The action's input fields, their labels and their dependencies, in display order."""

    def __init__(self, options_url: str) -> None:
        self.options_url = options_url
        self.fields: list[dict[str, Any]] = []
        self.labels: dict[str, str] = {}
        self.descriptions: dict[str, str] = {}
        self.option_labels: dict[str, dict[str, str]] = {}
        self.dependencies: list[dict[str, Any]] = []

    def add(
        self,
        name: str,
        label: str,
        description: str,
        value_types: list[str],
        type_: str = "string",
        field_type: str = "text",
        required: bool = False,
        **extra: Any,
    ) -> None:
        definition = {"name": name, "type": type_, "fieldType": field_type, **extra}
        self.fields.append(
            {
                "typeDefinition": definition,
                "supportedValueTypes": value_types,
                "isRequired": required,
            }
        )
        self.labels[name] = label
        self.descriptions[name] = description

    def offer_field(self, field: ManifestField, value_types: list[str], **kw: Any) -> None:
        self.add(field.key, field.label, field.help, value_types, required=field.required, **kw)

    def choice(self, control: str) -> None:
        label, description, option_labels = CHOICE_LABELS[control]
        options = [{"label": option_labels[v], "value": v} for v in CHOICES[control]]
        self.add(control, label, description, STATIC, "enumeration", "select", options=options)
        self.option_labels[control] = option_labels
        for option, dependents in CHOICES[control].items():
            if dependents:
                self.dependencies.append(
                    {
                        "dependencyType": "CONDITIONAL_SINGLE_FIELD",
                        "controllingFieldName": control,
                        "controllingFieldValue": option,
                        "dependentFieldNames": list(dependents),
                    }
                )


def definition(public_url: str) -> dict[str, Any]:
    fields = by_key()
    inputs = Inputs(f"{public_url}/hooks/hubspot/options")
    to = fields["to"]
    inputs.add(
        "to",
        to.label,
        f"{to.help} Leave empty to use the record's WhatsApp, mobile or phone number.",
        PROPERTY,
        field_type="phonenumber",
    )
    inputs.offer_field(
        fields["template_name"],
        STATIC,
        type_="enumeration",
        field_type="select",
        optionsUrl=inputs.options_url,
    )
    inputs.offer_field(fields["language"], STATIC)
    inputs.choice("header_type")
    inputs.offer_field(fields["header_image_url"], BOTH)
    inputs.offer_field(fields["header_video_url"], BOTH)
    for n in range(1, BODY_VARIABLES + 1):
        inputs.add(
            f"body_{n}",
            f"Body variable {n}",
            f"The template's {{{{{n}}}}}. Leave the later ones empty if it has fewer.",
            BOTH,
        )
        if n > 1:  # each one is offered once the one before it is filled
            inputs.dependencies.append(
                {
                    "dependencyType": "SINGLE_FIELD",
                    "controllingFieldName": f"body_{n - 1}",
                    "dependentFieldNames": [f"body_{n}"],
                }
            )
    inputs.choice("expiry_type")
    inputs.offer_field(fields["expires_at"], BOTH, type_="datetime", field_type="date")
    inputs.offer_field(fields["expires_in"], STATIC)
    for key in ("coupon_code", "url_param", "ref"):
        inputs.offer_field(fields[key], BOTH)
    inputs.add(
        WAIT_FIELD,
        "Wait for delivery",
        "Wait until WhatsApp reports the offer delivered, read or failed, then continue with "
        "the delivery status (needs the app installed in the portal). The wait ends after the "
        "connector's HUBSPOT_WAIT_EXPIRATION, one day unless set.",
        STATIC,
        "enumeration",
        "select",
        options=[{"label": WAIT_LABELS[v], "value": v} for v in WAIT_OPTIONS],
    )
    inputs.option_labels[WAIT_FIELD] = WAIT_LABELS
    return {
        "actionUrl": f"{public_url}/hooks/hubspot/action",
        "published": True,
        "objectTypes": ["CONTACT", "DEAL"],
        "objectRequestOptions": {"properties": list(PHONE_PROPERTIES)},
        "inputFields": inputs.fields,
        "inputFieldDependencies": inputs.dependencies,
        "outputFields": [
            *(
                {"typeDefinition": {"name": name, "type": "string", "fieldType": "text"}}
                for name in ("message_id", "event_id")
            ),
            {
                "typeDefinition": {
                    "name": "delivery_status",
                    "type": "enumeration",
                    "fieldType": "select",
                    "options": [{"label": s.capitalize(), "value": s} for s in FINAL],
                }
            },
            *(
                {"typeDefinition": {"name": name, "type": "string", "fieldType": "text"}}
                for name in ("delivery_error_code", "delivery_error_reason")
            ),
        ],
        "labels": {
            "en": {
                "appDisplayName": "Kaleyra WhatsApp offers",
                "actionName": "Send WhatsApp limited-time offer",
                "actionDescription": "Sends the record a WhatsApp limited-time-offer template "
                "through Kaleyra: header, body variables, offer expiry, coupon and URL button.",
                "actionCardContent": "Send WhatsApp offer {{template_name}}",
                "inputFieldLabels": inputs.labels,
                "inputFieldDescriptions": inputs.descriptions,
                "inputFieldOptionLabels": inputs.option_labels,
                "outputFieldLabels": OUTPUT_LABELS,
                "executionRules": {code: FAIL_LABELS[code] for code in FAIL_CODES},
            }
        },
        "executionRules": [
            {"labelName": code, "conditions": {"errorCode": code}} for code in FAIL_CODES
        ],
        "functions": [],
    }


def files(public_url: str) -> dict[str, str]:
    return {"hubspot/action-definition.json": as_json(definition(public_url))}
