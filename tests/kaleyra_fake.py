"""A real HTTP server on loopback that speaks Kaleyra's LTO send API, from its documentation page.

It checks what the page makes mandatory (path, api-key, Content-Type, messaging_object fields),
records every request byte for byte, and answers with the page's documented bodies (the page's
own samples are not valid JSON; these are the same fields with the commas restored). Tests script
answers per request: a documented error code, a delay, a hang past the client's timeout, or a
connection reset.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

SID = "HXAP1691385017IN"
API_KEY = "A0123456789abcdef0123456789abcde3"
SENDER = "+919900112233"

# status, body — the failure responses listed on the API page, in the page's key order
DOCUMENTED: dict[str, tuple[int, dict[str, Any]]] = {
    "RBC001": (401, {"code": "RBC001", "message": "Incorrect SID or API key.", "data": [],
                     "error": {"error": "Incorrect SID or API key."}}),
    "WA401": (401, {"code": "WA401",
                    "message": "Phone number is not present or does not belong to the account.",
                    "data": {}, "error": {"phone_number": "Phone number is not present or does "
                                                          "not belong to the account."}}),
    "WA400": (400, {"code": "WA400", "message": "Refer to correct payload format", "data": {},
                    "error": {"payload": "Incorrect payload format"}}),
    "WA500": (500, {"code": "WA500", "message": "Please try again later", "data": {},
                    "error": {"error": "Internal server error"}}),
    "E110": (400, {"code": "E110", "message": "Please check your balance, You have a low balance!",
                   "data": {}, "error": {"balance": "Please check your balance, You have a low "
                                                    "balance!"}}),
    "WA-401-account": (401, {"code": "WA-401", "message": "API is not available for given "
                             "customer.Please contact support for more info", "data": {},
                             "error": {"account": "API is not available for given customer."
                                                  "Please contact support for more info"}}),
    "WA-401-version": (401, {"code": "WA-401", "message": "The phone number you're using is "
                             "associated with different Version of our WA API. Please use the "
                             "appropriate endpoint.", "data": {},
                             "error": {"phone_number": "The phone number you're using is "
                                       "associated with different Version of our WA API. Please "
                                       "use the appropriate endpoint."}}),
}  # fmt: skip

WA_SOURCES = set(
    "api clevertap zoho webengage shopify leadsquared responsys braze hubspot salesforce zapier "
    "eloqua moengage".split()
)
_PATH = re.compile(r"^/v2/(?P<sid>[^/]+)/whatsapp/(?P<number>[^/]+)/messages$")


class QuietHandler(BaseHTTPRequestHandler):
    """What every loopback fake's handler shares: HTTP/1.1 keep-alive, as the real services
    speak it (each answer carries its Content-Length), and no access line on stderr."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass


@dataclass
class Recorded:
    """One request a loopback server got (the fakes of Kaleyra, HubSpot and the platforms'
    status receivers all record these)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    accepted: bool = False
    at: float = 0.0  # time.monotonic() when it arrived
    message_id: str | None = None  # the id this fake issued when it accepted

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}


@dataclass
class Script:
    """What to answer next: a documented code, a (status, body), 'hang' or 'reset'."""

    kind: str
    delay: float = 0.0
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeKaleyra:
    def __init__(
        self,
        *,
        delay: float = 0.0,
        per_second: int | None = None,
        faults: dict[str, float] | None = None,
        refuse_template: str | None = None,
        seed: int = 7,
    ) -> None:
        self.delay = delay
        self.faults = faults or {}  # e.g. {"WA500": 0.3, "reset": 0.1}: chance per request
        self.refuse_template = refuse_template  # always WA400 for this template name
        self._rng = random.Random(seed)
        # Kaleyra's throttle, modelled as a token bucket: per_second tokens a second, 1 s of burst
        self.per_second = per_second
        self._tokens = float(per_second or 0)
        self._refilled = time.monotonic()
        self.requests: list[Recorded] = []
        self.connections = 0
        self._script: deque[Script] = deque()
        # called with each accepted request before its 202 is written: a delivery report sent
        # from here beats the send's own answer (and the connector's commit of it)
        self.before_answer: Callable[[Recorded], None] | None = None
        self._lock = threading.Lock()
        fake = self

        class Handler(QuietHandler):
            disable_nagle_algorithm = True  # as a real API server: no 40 ms delayed-ACK stalls

            def setup(self) -> None:
                super().setup()
                with fake._lock:
                    fake.connections += 1

            def do_POST(self) -> None:
                fake._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self) -> FakeKaleyra:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        assert isinstance(host, str)  # a TCP server's address, never a UNIX path
        return f"http://{host}:{port}/v2/{SID}"

    # --- scripting ----------------------------------------------------------------------------
    def then(self, kind: str, **kwargs: Any) -> FakeKaleyra:
        self._script.append(Script(kind, **kwargs))
        return self

    @property
    def sent(self) -> list[Recorded]:
        """Requests Kaleyra accepted (answered 202)."""
        return [r for r in self.requests if r.accepted]

    def _random_script(self, record: Recorded) -> Script:
        if self.refuse_template and f'"name":"{self.refuse_template}"' in record.body.decode():
            return Script("WA400")
        roll = self._rng.random()
        for kind, chance in self.faults.items():
            if roll < chance:
                return Script(kind)
            roll -= chance
        return Script("ok")

    # --- the API ------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        if len(body) < length:  # the sender died mid-request: an HTTP server never sees it
            handler.close_connection = True
            return
        record = Recorded("POST", handler.path, dict(handler.headers.items()), body)
        record.at = time.monotonic()
        with self._lock:
            self.requests.append(record)
            script = self._script.popleft() if self._script else self._random_script(record)
            if self.per_second is not None and script.kind == "ok":
                elapsed, self._refilled = record.at - self._refilled, record.at
                self._tokens = min(self.per_second, self._tokens + elapsed * self.per_second)
                if self._tokens < 1:
                    script = Script("raw", status=429, body={"message": "Too many requests"})
                else:
                    self._tokens -= 1
        time.sleep(self.delay + script.delay)
        if script.kind == "reset":
            handler.close_connection = True
            handler.connection.shutdown(2)
            return
        if script.kind == "hang":
            time.sleep(30)
            return
        status, answer = self._answer(record, script)
        if record.accepted and self.before_answer is not None:
            self.before_answer(record)
        payload = json.dumps(answer, separators=(",", ":")).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        for name, value in script.headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(self, record: Recorded, script: Script) -> tuple[int, Any]:
        if script.kind in DOCUMENTED:
            return DOCUMENTED[script.kind]
        if script.kind == "raw":
            assert script.status is not None
            return script.status, script.body
        match = _PATH.match(record.path)
        if not match or match["sid"] != SID or record.headers.get("api-key") != API_KEY:
            return DOCUMENTED["RBC001"]
        if match["number"] != SENDER:
            return DOCUMENTED["WA401"]
        if record.headers.get("Content-Type") != "application/json" or not _valid(record.body):
            return DOCUMENTED["WA400"]
        message_id = "A" + uuid.uuid4().hex[:19].upper()
        record.accepted, record.message_id = True, message_id
        return 202, {
            "code": "WA202",
            "message": "Request Accepted",
            "data": {"message_id": message_id},
            "error": {},
        }


def _valid(body: bytes) -> bool:
    """The page's mandatory fields, and the LTO template's component rules."""
    try:
        data = json.loads(body)
        mo = data["messaging_object"]
        assert mo["messaging_product"] == "whatsapp"
        assert mo.get("recipient_type", "individual") == "individual"
        assert mo.get("type") == "template"
        assert re.fullmatch(r"\+?\d{8,15}", mo["to"])
        template = mo["template"]
        assert template["name"] and template["language"]["code"]
        for component in template["components"]:
            assert component["type"] in ("header", "body", "limited_time_offer", "button")
            assert isinstance(component["parameters"], list) and component["parameters"]
            if component["type"] == "limited_time_offer":
                ms = component["parameters"][0]["limited_time_offer"]["expiration_time_ms"]
                assert isinstance(ms, int)
            if component["type"] == "button":
                assert component["sub_type"] in ("copy_code", "url")
                assert isinstance(component["index"], int)
                if component["sub_type"] == "copy_code":
                    assert 1 <= len(component["parameters"][0]["coupon_code"]) <= 15
        extra = data.get("extra_info", {})
        assert extra.get("wa_source", "api") in WA_SOURCES
        for ref in ("ref", "ref1", "ref2"):
            assert len(extra.get(ref, "")) <= 255
    except (AssertionError, KeyError, TypeError, IndexError, ValueError):
        return False
    return True
