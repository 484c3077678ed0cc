"""Salesforce: Outbound Messaging (``/hooks/salesforce``), from a workflow rule or a Flow.

A SOAP ``notifications`` envelope carries up to 100 ``Notification`` elements, each one record's
chosen fields; each becomes one event, deduplicated on the notification ``Id`` (Salesforce delivers
at least once, out of order, and retries for 24 hours). ``OrganizationId`` picks the connection
and must be one it lists. The ``Ack`` is sent only after every notification is stored; XML that
cannot be read gets a SOAP fault, never an Ack. XML is parsed with defusedxml.

Fields map by name: ``MobilePhone``/``Phone`` give the recipient, and custom fields named after
an offer field (``Template_Name__c``, ``LTO_Template__c``, ``Coupon_Code__c``, ``Body_1__c``,
``LTO_Expires_At__c`` ...) give the rest; a ``salesforce`` mapping in the connection can say
otherwise. A notification that breaks the offer rules is acknowledged (Salesforce would resend the
whole batch for a day) and logged with its Id and the fields at fault.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import ElementTree as SafeXML
from defusedxml.common import DefusedXmlException
from flask import Request, Response
from marshmallow import ValidationError, fields, pre_load

from .. import fields as f
from ..errors import Coded, ConnectorError, InvalidInput, MalformedBody, Unauthorized
from ..jsonio import encode_text
from ..logs import log
from ..relay import Submission
from .base import Platform, PlatformSchema, Tenant
from .loose import BODY_N, normalise_key
from .routedoc import Answer, RouteDoc

logger = logging.getLogger("connector.salesforce")
OUTBOUND_NS = "http://soap.sforce.com/2005/09/outbound"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
PHONE_FIELDS = ("MobilePhone", "Mobile", "Phone", "WhatsApp_Number__c", "WhatsApp__c")
MAX_NOTIFICATIONS = 100
XML = {"type": "string", "format": "xml"}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def child_text(element: Element, name: str) -> str | None:
    for child in element:
        if local(child.tag) == name:
            return (child.text or "").strip()
    return None


def notification_count(notifications: list[Any]) -> None:
    """A validator raises (marshmallow 4 ignores a validator's False): 1 to 100 notifications."""
    if not notifications:
        raise ValidationError(Coded("empty", "Must hold at least one notification."))
    if len(notifications) > MAX_NOTIFICATIONS:
        raise ValidationError(
            Coded(
                "too_many",
                f"Must hold at most {MAX_NOTIFICATIONS} notifications (Salesforce's limit per "
                f"message); got {len(notifications)}.",
            )
        )


class _Notification(PlatformSchema):
    Id = f.String(required=True)
    sObject = f.Object(required=True)


class OutboundMessage(PlatformSchema):
    """The parsed envelope: the org, the action and each notification's record fields."""

    OrganizationId = f.String(required=True)
    ActionId = f.String(load_default=None)
    Notification = f.List(fields.Nested(_Notification), required=True, validate=notification_count)

    @pre_load
    def from_xml(self, root: Any, **kwargs: Any) -> dict[str, Any]:
        body = next((c for c in root if local(c.tag) == "Body"), None)
        notifications = None if body is None else body.find(f"{{{OUTBOUND_NS}}}notifications")
        if notifications is None:
            raise ValidationError("No notifications element in the SOAP body.", "notifications")
        out: dict[str, Any] = {"Notification": []}
        for child in notifications:
            name = local(child.tag)
            if name == "Notification":
                record = next((c for c in child if local(c.tag) == "sObject"), None)
                values = {local(f.tag): (f.text or "").strip() for f in record or []}
                out["Notification"].append({"Id": child_text(child, "Id"), "sObject": values})
            else:
                out[name] = (child.text or "").strip()
        return out


# built once and shared: building a schema deep-copies its fields, dearer than a load
OUTBOUND_MESSAGE = OutboundMessage()


def offer_inputs(record: dict[str, str], offer_fields: set[str]) -> dict[str, Any]:
    """A record's fields by the naming convention: ``[LTO_]Offer_Field__c`` and the phone."""
    inputs: dict[str, Any] = {}
    for name, value in record.items():
        if not value:
            continue
        key = normalise_key(name.removesuffix("__c"))
        key = normalise_key(key.removeprefix("lto_")) if key.startswith("lto_") else key
        if key in offer_fields or BODY_N.match(key):
            inputs[key] = value
    if "to" not in inputs:
        phone = next((record[f] for f in PHONE_FIELDS if record.get(f)), None)
        if phone:
            inputs["to"] = phone
    return inputs


def envelope(inner: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body>{inner}'
        "</soapenv:Body></soapenv:Envelope>"
    )


ACK = envelope(
    f'<notificationsResponse xmlns="{OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>'
)


def soap_fault(fault_code: str, message: str, status: int) -> Response:
    text = message.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    body = envelope(
        f"<soapenv:Fault><faultcode>soapenv:{fault_code}</faultcode>"
        f"<faultstring>{text}</faultstring></soapenv:Fault>"
    )
    return Response(encode_text(body), status=status, mimetype="text/xml")


class SalesforcePlatform(Platform):
    name = "salesforce"
    wa_source = "salesforce"
    path = "/hooks/salesforce"
    summary = "Salesforce Outbound Messaging (SOAP; up to 100 notifications, one Ack)."
    always_async = True
    doc = RouteDoc(
        body={"text/xml": {"type": "string", "description": "A SOAP envelope whose body is a "
                           f"notifications element ({OUTBOUND_NS})."}},
        answers={
            200: Answer("The Ack, once every notification is stored", XML, "text/xml"),
            400: Answer("A SOAP fault (Client): unreadable XML, or 0 or over 100 "
                        "notifications", XML, "text/xml"),
            401: Answer("A SOAP fault (Client): OrganizationId not connected", XML, "text/xml"),
            503: Answer("A SOAP fault (Server): the store is not available", XML, "text/xml"),
        },
        security=(),
        description="No signature: OrganizationId must be one a connection lists.",
    )  # fmt: skip

    def handle(self, request: Request) -> Response:
        try:
            message = self.read(request)
            tenant = self.tenant(
                self.runtime.connections.by_org(message["OrganizationId"]),
                f"Organization {message['OrganizationId']} is not connected to this connector",
            )
            for notification in message["Notification"]:
                self.submit_one(notification, tenant)
        except ConnectorError as error:
            return self.respond_error(error)
        return Response(ACK, status=200, mimetype="text/xml")

    def read(self, request: Request) -> dict[str, Any]:
        raw = request.get_data(cache=True)
        try:
            root = SafeXML.fromstring(raw, forbid_dtd=True)
        except (SafeXML.ParseError, DefusedXmlException, ValueError, LookupError) as exc:
            # LookupError: an XML declaration naming an encoding Python does not know
            raise MalformedBody(f"The body is not a readable SOAP message: {exc}") from None
        try:
            message: dict[str, Any] = OUTBOUND_MESSAGE.load(root)
        except ValidationError as exc:
            raise InvalidInput.from_messages(exc.messages) from None
        return message

    def submit_one(self, notification: dict[str, Any], tenant: Tenant) -> None:
        record = notification["sObject"]
        mapping = tenant.connection.mappings.get("salesforce")
        try:
            if mapping is not None:
                inputs, _ = mapping.apply(record)
            else:
                inputs = offer_inputs(record, set(tenant.loose_schema.fields))
            offer = self.offer(inputs, tenant, loose=True)
        except InvalidInput as error:
            error = mapping.explain(error) if mapping is not None else error
            log(logger, "notification not sendable", logging.WARNING,
                notification_id=notification["Id"], code=error.code,
                fields=sorted(error.errors))  # fmt: skip
            return
        submission = self.submission(offer, tenant, delivery_id=notification["Id"])
        self.runtime.relay.submit(replace(submission, respond_async=True))

    def parse(self, request: Request, tenant: Tenant) -> Submission:  # one call holds many
        raise NotImplementedError

    def respond(self, settled: Any) -> Response:
        return Response(ACK, status=200, mimetype="text/xml")

    def respond_error(self, error: ConnectorError) -> Response:
        if isinstance(error, Unauthorized):
            return soap_fault("Client", error.message, 401)
        if error.status < 500:
            return soap_fault("Client", error.message, 400)
        return soap_fault("Server", error.message, error.status)
