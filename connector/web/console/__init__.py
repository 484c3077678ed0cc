"""The operator console: server-rendered pages at the connector's root.

``GET /`` goes to the sign-in page or the messages list. Pages: ``/sign-in``, ``/messages``,
``/messages/<id>``, ``/try``, ``/health``; forms post to ``/sign-in``, ``/sign-out``, ``/try``,
``/try/send``, ``/messages/<id>/replay`` and ``/accounts/<name>/resume``. Templates and static
files ship inside the package; no page loads anything from elsewhere, and every page that only
reads works without JavaScript.

Modules: ``session`` (the cookie and its key), ``security`` (headers, CSRF), ``auth`` (who is
signed in, sign-in/out, failed-attempt limit), ``trial`` + ``offer_form`` (try an offer),
``messages`` + ``timeline`` + ``explain`` (the list and a message's page), ``health`` + ``chart``,
``present`` (formatting and masking).
"""

from __future__ import annotations

from flask import Blueprint

from . import auth, health, messages, present, security, trial
from .session import ConsoleSettings, setup


def console_blueprint(settings: ConsoleSettings | None = None) -> Blueprint:
    settings = settings or ConsoleSettings.from_env()
    bp = Blueprint(
        "console",
        __name__,
        template_folder="templates",
        static_folder="static",
        static_url_path="/console/static",
    )
    bp.record_once(lambda state: setup(state.app, settings))
    security.install(bp)  # first: the CSRF check runs before anything else
    auth.register(bp)
    present.install_filters(bp)
    messages.register(bp)
    trial.register(bp)
    health.register(bp)
    return bp


__all__ = ["ConsoleSettings", "console_blueprint"]
