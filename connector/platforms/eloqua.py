"""Oracle Eloqua (action service notifications or a simple webhook).

A user-composed body, read through the connection's ``eloqua`` mapping."""

from __future__ import annotations

from .mapped import MappedPlatform


class EloquaPlatform(MappedPlatform):
    name = "eloqua"
    wa_source = "eloqua"
    mapping_name = "eloqua"
    path = "/hooks/eloqua"
    summary = (
        "Oracle Eloqua (action service notifications or a simple webhook) (mapped body; API key)."
    )
