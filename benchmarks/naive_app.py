"""The baseline a user would write in an afternoon: one webhook, one fresh ``requests.post``.

    NAIVE_UPSTREAM_URL=http://127.0.0.1:PORT/v2/SID/whatsapp/SENDER/messages NAIVE_API_KEY=… \
        gunicorn -k gthread -w 2 --threads 8 benchmarks.naive_app:app

No storage, no validation beyond JSON parsing, no session (a new connection per call), no retry:
the offer's fields are copied into Kaleyra's template payload and the answer is 202 once Kaleyra
has answered. ``benchmarks.durable`` runs it next to the connector.
"""

from __future__ import annotations

import os
from typing import Any

import requests
from flask import Flask, request

app = Flask(__name__)
UPSTREAM = os.environ.get("NAIVE_UPSTREAM_URL", "")
API_KEY = os.environ.get("NAIVE_API_KEY", "")


@app.post("/v1/messages")
def webhook() -> tuple[dict[str, Any], int]:
    offer = request.get_json(force=True)
    components: list[dict[str, Any]] = [
        {"type": "header",
         "parameters": [{"type": "image", "image": {"id": offer["header_image_id"]}}]},
        {"type": "body", "parameters": [{"type": "text", "text": p} for p in offer["body_params"]]},
        {"type": "limited_time_offer", "parameters": [{"type": "limited_time_offer",
            "limited_time_offer": {"expiration_time_ms": offer["expires_at"]}}]},
        {"type": "button", "sub_type": "copy_code", "index": 0,
         "parameters": [{"type": "coupon_code", "coupon_code": offer["coupon_code"]}]},
        {"type": "button", "sub_type": "url", "index": 1,
         "parameters": [{"type": "text", "text": offer["url_param"]}]},
    ]  # fmt: skip
    message = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": offer["to"],
        "type": "template",
        "template": {
            "name": offer["template_name"],
            "language": {"code": offer["language"]},
            "components": components,
        },
    }
    refs = {k: offer[k] for k in ("ref", "ref1", "ref2") if k in offer}
    upstream = requests.post(
        UPSTREAM,
        json={"messaging_object": message, "extra_info": {"wa_source": "api", **refs}},
        headers={"api-key": API_KEY},
        timeout=15,
    )
    return {"status": "sent", "upstream_status": upstream.status_code}, 202
