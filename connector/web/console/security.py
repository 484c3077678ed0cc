"""Headers on every console response, and the CSRF check on every console form.

Every form carries a token from Flask-WTF's ``generate_csrf`` (a random value kept in the session,
signed with the session's key); every POST to the console is checked with ``validate_csrf`` before
its view runs, and a POST whose ``Origin`` is another site is refused as well. The check is the
blueprint's own, so the platforms' webhooks (which carry no session) are untouched.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, render_template, request
from flask_wtf.csrf import generate_csrf, validate_csrf
from werkzeug.exceptions import HTTPException
from wtforms import ValidationError

from .session import LIFETIME

CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' https: data:",  # an offer's header image is on the sender's CDN
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSRF_FIELD = "csrf_token"


class Refusal(Exception):
    """A console request refused with a page that says why."""

    def __init__(
        self, status: int, title: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.headers = headers or {}


def refusal_page(error: Refusal) -> Response:
    html = render_template("console/error.html", title=error.title, message=error.message)
    return Response(html, error.status, error.headers, mimetype="text/html")


def check_csrf() -> None:
    origin = request.headers.get("Origin")
    if origin and origin != "null" and _origin(origin) != _origin(request.host_url):
        raise Refusal(403, "Refused", "This form was sent from another site.")
    try:
        validate_csrf(request.form.get(CSRF_FIELD), time_limit=int(LIFETIME.total_seconds()))
    except ValidationError as exc:
        raise Refusal(
            400,
            "The form could not be checked",
            f"{exc} Reload the page and send the form again (CSRF check).",
        ) from None


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def install(bp: Blueprint) -> None:
    @bp.before_request
    def _csrf() -> None:
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check_csrf()

    @bp.after_request
    def _headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if request.endpoint != "console.static":
            response.headers["Cache-Control"] = "no-store"
        return response

    @bp.context_processor
    def _csrf_token() -> dict[str, object]:
        return {"csrf_token": generate_csrf, "csrf_field": CSRF_FIELD}

    @bp.errorhandler(Refusal)
    def _refused(error: Refusal) -> Response:
        return refusal_page(error)

    @bp.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        status = error.code or 500
        title = error.name or "Error"
        return refusal_page(Refusal(status, title, error.description or title))
