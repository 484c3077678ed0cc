"""Health: queue depth, delivery rate, paused accounts (with Resume) and the last hour's chart."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response as BaseResponse

from ...offer import wall_clock_ms
from ...store.activity import SERIES, last_hour
from ...store.browse import queue_figures
from .auth import principal, signed_in
from .chart import LOOKS, render
from .present import STATUSES
from .security import Refusal

RATE_WINDOW_MS = 5 * 60_000


def register(bp: Blueprint) -> None:
    @bp.get("/health")
    @signed_in
    def health() -> Any:
        runtime = current_app.extensions["lto"]
        engine = runtime.store.db.reader
        now = wall_clock_ms()
        who = principal()
        figures = queue_figures(engine, who.accounts, now, RATE_WINDOW_MS)
        activity = last_hour(engine, now, who.accounts)
        paused = {name: row for name, row in runtime.accounts.paused().items() if who.sees(name)}
        connections = [
            {
                "name": c.name,
                "account": c.account.name,
                "sandbox": c.account.sandbox,
                "rate": c.account.rate,
                "paused": c.account.name in paused,
            }
            for c in who.connections()
        ]
        return render_template(
            "console/health.html",
            figures=figures,
            now=now,
            statuses=STATUSES,
            paused=paused,
            connections=connections,
            chart=render(activity),
            activity=activity,
            series=SERIES,
            looks=LOOKS,
        )

    @bp.post("/accounts/<name>/resume")
    @signed_in
    def resume(name: str) -> BaseResponse:
        runtime = current_app.extensions["lto"]
        if not principal().sees(name):
            raise Refusal(404, "Not found", "There is no such account for this sign-in.")
        if runtime.accounts.resume(name):
            flash(f"Account {name} resumed: its waiting messages are sent next.", "ok")
        else:
            flash(f"Account {name} was not paused.", "warn")
        return redirect(url_for("console.health"), 303)
