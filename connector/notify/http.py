"""Posting a notification: JSON over the notifier's shared urllib3 pool, faults as ``Outcome``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import urllib3

from .base import Outcome, network_error

TIMEOUT = urllib3.Timeout(connect=3.0, read=5.0)


def post_json(
    http: urllib3.PoolManager,
    url: str,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    gone: Sequence[int] = (),
    encoded: bytes | None = None,
) -> Outcome:
    """POST ``body`` (or the already ``encoded`` bytes) as JSON; never raises for the network."""
    data = encoded if encoded is not None else json.dumps(body, separators=(",", ":")).encode()
    try:
        answer = http.request(
            "POST",
            url,
            body=data,
            headers={"Content-Type": "application/json", **(headers or {})},
            timeout=TIMEOUT,
            retries=False,
            redirect=False,
        )
    except (urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
        return network_error(exc)
    return Outcome.of_http(answer.status, answer.data, gone=gone)
