"""Liveness and readiness."""

from __future__ import annotations

from flask import Blueprint, Response, current_app

from ..platforms.base import json_response


def health_blueprint() -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz() -> Response:
        return json_response({"status": "ok"})

    @bp.get("/readyz")
    def readyz() -> Response:
        runtime = current_app.extensions["lto"]
        checks: dict[str, str] = {}
        ready = True
        try:
            runtime.store.ping()
            checks["store"] = "ok"
        except Exception as exc:  # any driver error means "not ready"
            checks["store"] = f"unreachable: {type(exc).__name__}"
            ready = False
        sandbox = runtime.connections.sandbox
        checks["upstream"] = "sandbox" if sandbox else "kaleyra"
        body: dict[str, object] = {
            "status": "ready" if ready else "not_ready",
            "checks": checks,
            "sandbox": sandbox,
        }
        if ready:  # still ready to accept: a paused account's messages wait in the store
            body["paused_accounts"] = {
                name: row["reason"] for name, row in runtime.accounts.paused().items()
            }
        return json_response(body, 200 if ready else 503)

    return bp
