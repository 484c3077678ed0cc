"""One route per platform, all served by ``Platform.handle``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from ..errors import ConnectorError
from ..platforms import Platform
from ..platforms.base import http_error


def hooks_blueprint(platforms: list[Platform]) -> Blueprint:
    bp = Blueprint("hooks", __name__)
    for platform in platforms:
        bp.add_url_rule(
            platform.path,
            endpoint=platform.name,
            view_func=_view(platform),
            methods=list(platform.methods),
        )
    return bp


def _view(platform: Platform) -> Callable[[], Response]:
    def view() -> Response:
        """Every refusal in the platform's own format: the connector's errors, and werkzeug's
        (a body over the size limit, a form it cannot read) wherever in handling they arise."""
        try:
            return platform.handle(request)
        except ConnectorError as error:
            return platform.respond_error(error)
        except HTTPException as error:
            return platform.respond_error(http_error(error))

    view.__name__ = f"hook_{platform.name}"
    return view
