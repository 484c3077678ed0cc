"""The stack's own ceiling: Flask under the same gunicorn, parsing the JSON body and answering 202,
storing and checking nothing. ``benchmarks.campaign`` runs it beside the connector.

    gunicorn -k gthread -w 2 --threads 32 benchmarks.ceiling_app:app
"""

from __future__ import annotations

from typing import Any

from flask import Flask, request

app = Flask(__name__)


@app.post("/<path:route>")
def accept(route: str) -> tuple[dict[str, Any], int]:
    request.get_json(force=True)
    return {"status": "queued"}, 202
