"""The Kaleyra HTTP client: one pooled session per process, typed errors, a small result object."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import urllib3
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from .errors import (
    KaleyraError,
    KaleyraUncertain,
    KaleyraUnreachable,
    Unencodable,
    error_from_response,
)

POD_HOSTS = {"in": "api.in.kaleyra.io", "ap": "api.ap.kaleyra.io", "eu": "api.eu.kaleyra.io"}
REQUEST_ID_HEADERS = ("X-Request-Id", "X-Amzn-RequestId", "X-Correlation-Id")


@dataclass(frozen=True, slots=True)
class SendResult:
    message_id: str
    status: int
    code: str | None
    request_id: str | None
    latency_ms: float
    sandbox: bool = False


class Sender(Protocol):
    sandbox: bool

    def send(self, payload: dict[str, Any]) -> SendResult: ...

    def describe(self, payload: dict[str, Any]) -> dict[str, Any]: ...


def base_url_for(pod: str, sid: str) -> str:
    try:
        host = POD_HOSTS[pod.lower()]
    except KeyError:
        raise ValueError(
            f"KALEYRA_POD must be one of {', '.join(POD_HOSTS)}, not {pod!r}"
        ) from None
    return f"https://{host}/v2/{sid}"


class KaleyraClient:
    """Kaleyra's send API over one pool of keep-alive connections per process.

    It speaks to urllib3's pool directly, the transport requests itself is built on: at a
    thousand messages a second, requests' session layer (hooks, cookies, environment merging on
    every call) cost as much CPU as the rest of a send (``benchmarks/campaign.py``)."""

    sandbox = False

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str,
        sender: str,
        connect_timeout: float = 3.05,
        read_timeout: float = 15.0,
        pool_size: int = 128,
    ) -> None:
        self.url = f"{base_url.rstrip('/')}/whatsapp/{sender}/messages"
        self.read_timeout = read_timeout
        self.headers = {
            "api-key": api_key,
            "Content-Type": "application/json",
            "cache-control": "no-cache",
            "User-Agent": "kaleyra-lto-connector",
        }
        options: dict[str, Any] = {
            "num_pools": 2,
            "maxsize": pool_size,
            "retries": False,  # a retried send can be a second WhatsApp message
            "timeout": urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        }
        proxy = _proxy_for(self.url)  # HTTPS_PROXY / NO_PROXY, resolved once
        manager = (
            urllib3.ProxyManager(proxy, **options) if proxy else urllib3.PoolManager(**options)
        )
        # one host: its pool, once (the manager would parse the URL again on every send)
        self.pool = manager.connection_from_url(self.url)
        self.target = self.url if proxy else urlsplit(self.url).path

    def describe(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The request ``send`` would make, with the API key masked."""
        headers = self.headers | {"api-key": "****"}
        return {"method": "POST", "url": self.url, "headers": headers, "json": payload}

    def send(self, payload: dict[str, Any]) -> SendResult:
        body = encode(payload)
        started = time.perf_counter()
        try:
            response = self.pool.urlopen(
                "POST", self.target, body=body, headers=self.headers, retries=False
            )
        except urllib3.exceptions.HTTPError as exc:
            if _never_sent(exc):
                raise KaleyraUnreachable(f"Kaleyra could not be reached: {_reason(exc)}") from None
            if isinstance(exc, urllib3.exceptions.ReadTimeoutError):
                raise KaleyraUncertain(
                    f"Kaleyra did not answer within {self.read_timeout:g}s; "
                    "the message may have been sent"
                ) from None
            raise KaleyraUncertain(
                f"The connection to Kaleyra broke after the request was sent: {_reason(exc)}"
            ) from None
        latency_ms = (time.perf_counter() - started) * 1000
        return parse_response(response.status, response.headers, response.data, latency_ms)


def _proxy_for(url: str) -> str | None:
    if urllib.request.proxy_bypass(urlsplit(url).hostname or ""):
        return None
    return urllib.request.getproxies().get(urlsplit(url).scheme)


def encode(payload: dict[str, Any]) -> bytes:
    """Kaleyra's request body; text that UTF-8 cannot carry (a lone surrogate) never leaves."""
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError as exc:
        # only a payload stored before the door refused such text can get here: a dead letter
        # with its reason, never an exception that takes a worker down
        raise Unencodable(
            f"The request cannot be encoded as UTF-8 ({exc.reason}: "
            f"U+{ord(exc.object[exc.start]):04X}), so it was never sent"
        ) from None


def parse_response(
    status: int, headers: Mapping[str, str], body: bytes, latency_ms: float
) -> SendResult:
    request_id = next((headers[h] for h in REQUEST_ID_HEADERS if h in headers), None)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    text = body[:500].decode("utf-8", "replace")
    if 200 <= status < 300:
        message_id = _message_id(data)
        if message_id is None:
            raise KaleyraUncertain(
                f"Kaleyra answered {status} without a message id",
                status=status,
                body=data if data is not None else text,
                request_id=request_id,
            )
        code = data.get("code") if isinstance(data, dict) else None
        return SendResult(message_id, status, code, request_id, latency_ms)
    retry_after = headers.get("Retry-After")
    raise error_from_response(
        status,
        data if data is not None else text,
        request_id,
        int(retry_after) if retry_after and retry_after.isdigit() else None,
    )


def _message_id(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("data"), dict):
        value = data["data"].get("message_id")
        if value:
            return str(value)
    return None


def _never_sent(exc: BaseException) -> bool:
    """True when the failure happened while connecting, before any byte of the request left."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError | ConnectTimeoutError | NameResolutionError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            if isinstance(reason, NewConnectionError | ConnectTimeoutError | NameResolutionError):
                return True
        nested = (
            current.args[0] if current.args and isinstance(current.args[0], BaseException) else None
        )
        current = nested or current.__cause__ or current.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text if len(text) < 200 else text[:200] + "..."


__all__ = ["KaleyraClient", "KaleyraError", "SendResult", "Sender", "base_url_for"]
