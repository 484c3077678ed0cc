"""Oracle Responsys (CX Apps action service or a simple webhook).

A user-composed body, read through the connection's ``responsys`` mapping."""

from __future__ import annotations

from .mapped import MappedPlatform


class ResponsysPlatform(MappedPlatform):
    name = "responsys"
    wa_source = "responsys"
    mapping_name = "responsys"
    path = "/hooks/responsys"
    summary = (
        "Oracle Responsys (CX Apps action service or a simple webhook) (mapped body; API key)."
    )
