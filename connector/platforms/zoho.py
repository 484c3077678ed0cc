"""Zoho CRM workflow webhooks and Zoho Flow.

A user-composed body, read through the connection's ``zoho`` mapping."""

from __future__ import annotations

from .mapped import MappedPlatform


class ZohoPlatform(MappedPlatform):
    name = "zoho"
    wa_source = "zoho"
    mapping_name = "zoho"
    path = "/hooks/zoho"
    summary = "Zoho CRM workflow webhooks and Zoho Flow (mapped body; API key)."
