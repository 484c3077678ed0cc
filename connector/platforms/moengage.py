"""MoEngage custom connector / webhook campaigns.

A user-composed body, read through the connection's ``moengage`` mapping."""

from __future__ import annotations

from .mapped import MappedPlatform


class MoEngagePlatform(MappedPlatform):
    name = "moengage"
    wa_source = "moengage"
    mapping_name = "moengage"
    path = "/hooks/moengage"
    summary = "MoEngage custom connector / webhook campaigns (mapped body; API key)."
