"""One route per platform, all served by ``Platform.handle``."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, request

from ..platforms import Platform


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
        return platform.handle(request)

    view.__name__ = f"hook_{platform.name}"
    return view
