"""Kaleyra LTO connector: WhatsApp Limited-Time-Offer messages from marketing platforms.

``create_app()`` wires config → store → Kaleyra client → platform registry → blueprints.
gunicorn starts ``connector:create_app()``.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .app import create_app  # noqa: E402

__all__ = ["__version__", "create_app"]
