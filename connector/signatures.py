"""Request signatures: HubSpot v3 / v2 / v1, constant-time, with an injectable clock.

v3 = base64(HMAC-SHA256(secret, method + uri + body + timestamp)), timestamp in epoch ms within
five minutes; only the twelve escapes HubSpot lists are decoded in the URI.
v2 = hex(SHA-256(secret + method + uri + body)); v1 = hex(SHA-256(secret + body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from typing import Any

from .errors import Unauthorized

MAX_SKEW_MS = 5 * 60 * 1000
_HUBSPOT_DECODED = {
    "%3A": ":", "%2F": "/", "%3F": "?", "%40": "@", "%21": "!", "%24": "$",
    "%27": "'", "%28": "(", "%29": ")", "%2A": "*", "%2C": ",", "%3B": ";",
}  # fmt: skip
_ESCAPE = re.compile("|".join(_HUBSPOT_DECODED), re.IGNORECASE)


def hubspot_uri(uri: str) -> str:
    """Decode exactly the escapes HubSpot's v3 rule lists; leave every other escape alone."""
    return _ESCAPE.sub(lambda m: _HUBSPOT_DECODED[m.group(0).upper()], uri)


def hubspot_v3(secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    source = method.encode() + hubspot_uri(uri).encode() + body + timestamp.encode()
    digest = hmac.new(secret.encode(), source, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hubspot_v2(secret: str, method: str, uri: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + method.encode() + uri.encode() + body).hexdigest()


def hubspot_v1(secret: str, body: bytes) -> str:
    return hashlib.sha256(secret.encode() + body).hexdigest()


def verify_hubspot(
    secret: str,
    headers: Mapping[str, str] | Any,
    method: str,
    uri: str,
    body: bytes,
    now_ms: Callable[[], int],
) -> str:
    """Check the v3 signature, or v2 when only v2 headers came. Returns the version checked."""
    v3 = headers.get("X-HubSpot-Signature-v3")
    if v3:
        timestamp = headers.get("X-HubSpot-Request-Timestamp", "")
        if not (timestamp.isascii() and timestamp.isdigit()):  # '²' is a digit to isdigit()
            raise Unauthorized(
                "X-HubSpot-Request-Timestamp is missing or not epoch milliseconds",
                code="invalid_signature",
            )
        if abs(now_ms() - int(timestamp)) > MAX_SKEW_MS:
            raise Unauthorized(
                "X-HubSpot-Request-Timestamp is more than 5 minutes away from now",
                code="stale_signature",
            )
        expected = hubspot_v3(secret, method, uri, body, timestamp)
        _compare(expected, v3)
        return "v3"
    signature = headers.get("X-HubSpot-Signature")
    if not signature:
        raise Unauthorized("No HubSpot signature header was sent", code="missing_signature")
    version = (headers.get("X-HubSpot-Signature-Version") or "v1").lower()
    if version == "v2":
        _compare(hubspot_v2(secret, method, uri, body), signature)
    elif version == "v1":
        # workflow actions and webhooks are signed v3/v2; v1 binds neither URI nor time
        raise Unauthorized(
            "v1 HubSpot signatures are not accepted here; HubSpot signs workflow calls v3 and v2",
            code="invalid_signature",
        )
    else:
        raise Unauthorized(
            f"Unknown X-HubSpot-Signature-Version {version[:10]!r}", code="invalid_signature"
        )
    return version


def _compare(expected: str, given: str) -> None:
    if not hmac.compare_digest(expected.encode(), given.strip().encode()):
        raise Unauthorized(
            "The HubSpot signature does not match: check HUBSPOT_CLIENT_SECRET and "
            "CONNECTOR_PUBLIC_URL",
            code="invalid_signature",
        )


def basic_credentials(header: str) -> tuple[str, str] | None:
    """``Authorization: Basic <base64 user:password>`` → (user, password); None for any other
    header, or one that is not base64 of UTF-8 text. Header values arrive as latin-1 text: a
    non-ASCII one makes base64 raise ValueError (not binascii.Error), which is caught too."""
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except ValueError:  # binascii.Error, UnicodeDecodeError and non-ASCII input all are
        return None
    user, _, password = decoded.partition(":")
    return user, password


def api_key_matches(given: str | None, keys: tuple[str, ...]) -> bool:
    if not given:
        return False
    matched = False
    for key in keys:  # no early exit: the time taken does not reveal which key matched
        matched |= hmac.compare_digest(given.encode(), key.encode())
    return matched
