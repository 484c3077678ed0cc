"""Braze webhook campaigns and Canvas steps.

A user-composed body, read through the connection's ``braze`` mapping."""

from __future__ import annotations

from .mapped import MappedPlatform


class BrazePlatform(MappedPlatform):
    name = "braze"
    wa_source = "braze"
    mapping_name = "braze"
    path = "/hooks/braze"
    summary = "Braze webhook campaigns and Canvas steps (mapped body; API key)."
