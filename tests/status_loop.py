"""Both ends of the status loop, on loopback, written from the vendors' documentation.

``KaleyraCallbacks`` posts what a Kaleyra callback profile posts (STATUS-LOOP.md §1): the
profile's own template of string variables (GET query or POST body; the README's template) and
the v2 status webhook (``meta_object`` + ``extra_info``). ``Receiver`` is a platform's status
API: it records every request and answers as scripted (or is stopped, like a host that is down);
``clevertap_problems``, ``webengage_problems`` and ``webhook_problems`` check a request against
each platform's documented contract.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from typing import Any

import requests
from standardwebhooks import Webhook, WebhookVerificationError

from tests.kaleyra_fake import QuietHandler, Recorded

CALLBACK_TOKEN = "cb-token-7f3a9c2e5d1b4a68"
WEBENGAGE_TOKEN = "we-wsp-token-31c7"
WEBHOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # 24 bytes, base64


@dataclass
class KaleyraCallbacks:
    """Kaleyra's callbacks for one connection's profile (URL ending in the path token)."""

    url: str  # e.g. http://127.0.0.1:1234/callbacks/kaleyra/acme/<token>
    sent: list[requests.Response] = field(default_factory=list)

    def template(
        self, record: Recorded, status: str, *, method: str = "GET", at: float | None = None,
        error: str | None = None, error_code: str | None = None,
    ) -> requests.Response:  # fmt: skip
        """The profile's own template: every variable a string; the id ends in ``:0``."""
        extra = record.json.get("extra_info", {})
        variables = {
            "id": f"{record.message_id}:0",
            "status": status,
            "timestamp": str(int(at or time.time())),
            "mobile": record.json["messaging_object"]["to"].lstrip("+"),
            "ref": extra.get("ref", ""),
            "ref1": extra.get("ref1", ""),
            "ref2": extra.get("ref2", ""),
            "error": error or "",
            "error_code": error_code or "",
        }
        if method == "GET":
            answer = requests.get(self.url, params=variables, timeout=10)
        else:
            answer = requests.request(method, self.url, json=variables, timeout=10)
        self.sent.append(answer)
        return answer

    def envelope(
        self, record: Recorded, status: str, *, at: float | None = None,
        errors: list[dict[str, Any]] | None = None, refs: bool = True,
    ) -> requests.Response:  # fmt: skip
        """The v2 status webhook, with Meta's status inside ``meta_object``."""
        extra = record.json.get("extra_info", {}) if refs else {}
        wamid = "wamid.HBgM" + (record.message_id or "")
        item: dict[str, Any] = {
            "id": wamid,
            "status": status,
            "timestamp": str(int(at or time.time())),
            "recipient_id": record.json["messaging_object"]["to"].lstrip("+"),
        }
        if errors:
            item["errors"] = errors
        body = {
            "meta_object": {
                "value": {
                    "messaging_product": "whatsapp",
                    "metadata": {"display_phone_number": "919900112233"},
                    "statuses": [item],
                },
                "field": "messages",
            },
            "extra_info": {
                "trace_id": "tr-1",
                "message_id": record.message_id,
                "waba_id": "1234",
                **{k: extra[k] for k in ("ref", "ref1", "ref2") if k in extra},
            },
            "status": status,
            "message_id": wamid,
        }
        answer = requests.post(self.url, json=body, timeout=10)
        self.sent.append(answer)
        return answer


class Receiver:
    """A platform's status endpoint: records each request, answers ``status`` (200 unless a
    test says otherwise); ``stop()`` and ``start()`` again on the same port, like a host that
    went down and came back."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.received: list[Recorded] = []
        self.lock = threading.Lock()
        self.port = 0
        self.server: ThreadingHTTPServer | None = None
        self.start()

    def start(self) -> Receiver:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.lock:
                    receiver.received.append(
                        Recorded("POST", self.path, dict(self.headers.items()), body,
                                 at=time.monotonic())
                    )  # fmt: skip
                    status = receiver.status
                answer = b'{"ok":true}' if status < 300 else b'{"error":"unavailable"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/status"

    def wait_for(self, count: int, timeout: float = 15) -> list[Recorded]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            return list(self.received)


# --- each platform's contract (STATUS-LOOP.md §2, §3, §6) ------------------------------------
def clevertap_problems(request: Recorded) -> list[str]:
    body = request.json
    problems = []
    if body.get("payloadVersion") != "0.1":
        problems.append("payloadVersion must be '0.1'")
    statuses = body.get("statuses")
    if not isinstance(statuses, list) or not statuses:
        return [*problems, "statuses must be a non-empty list"]
    for item in statuses:
        if item.get("status") not in ("sent", "delivered", "read", "failed"):
            problems.append(f"status {item.get('status')!r}")
        if not re.fullmatch(r"\d{10}", str(item.get("timestamp"))):
            problems.append("timestamp must be epoch seconds as a string")
        if not isinstance(item.get("msgId"), str):
            problems.append("msgId")
        if (item.get("status") == "failed") != ("error" in item):
            problems.append("error only and always on failed")
        if "error" in item and not 1000 <= item["error"].get("code", 0) <= 1010:
            problems.append("error.code must be 1000-1010")
    return problems


WEBENGAGE_STATUSES = ("whatsapp_sent", "whatsapp_delivered", "whatsapp_read", "whatsapp_failed")


def webengage_problems(request: Recorded) -> list[str]:
    body = request.json
    problems = []
    if request.headers.get("Authorization") != f"Bearer {WEBENGAGE_TOKEN}":
        problems.append("Authorization must be the WSP token WebEngage issued")
    if body.get("version") != "1.0":
        problems.append("version must be '1.0'")
    if body.get("status") not in WEBENGAGE_STATUSES:
        problems.append(f"status {body.get('status')!r}")
    if not isinstance(body.get("statusCode"), int):
        problems.append("statusCode must be a number")
    if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", str(body.get("timestamp"))):
        problems.append("timestamp like 2018-01-25T10:24:16+0000")
    if not re.fullmatch(r"\d{8,15}", str(body.get("toNumber"))):
        problems.append("toNumber: digits with country code")
    if not isinstance(body.get("messageId"), str) or len(body["messageId"]) > 500:
        problems.append("messageId")
    return problems


def webhook_problems(request: Recorded, secret: str = WEBHOOK_SECRET) -> list[str]:
    try:
        Webhook(secret).verify(request.body, request.headers)
    except WebhookVerificationError as exc:
        return [f"signature: {exc}"]
    return []
