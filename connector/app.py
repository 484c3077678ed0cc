"""The Flask app factory."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs
from .config import Settings
from .connections import Connection, KaleyraAccount
from .delivery import Deliverer, Settler, WorkerConfig
from .errors import ConnectorError
from .kaleyra import KaleyraClient, SandboxClient
from .kaleyra.client import Sender, base_url_for
from .offer import OfferDefaults, OfferSchema, wall_clock_ms
from .platforms import Runtime, build_platforms
from .platforms.base import Tenant, http_error, json_response
from .platforms.loose import LooseOfferSchema
from .ratelimit import RateLimiter, slots_for
from .relay import Relay
from .retries import RetryPolicy
from .store import EventStore
from .store.accounts import AccountStore
from .web.callbacks import callbacks_blueprint
from .web.catalog import catalog_blueprint
from .web.console import console_blueprint
from .web.events import events_blueprint
from .web.health import health_blueprint
from .web.hooks import hooks_blueprint
from .web.hubspot_oauth import hubspot_oauth_blueprint
from .web.hubspot_options import hubspot_options_blueprint
from .web.metrics import metrics_blueprint
from .web.openapi import openapi_blueprint
from .web.zapier_hooks import zapier_hooks_blueprint

logger = logging.getLogger("connector.http")
MAX_BODY_BYTES = 1024 * 1024


def make_sender(account: KaleyraAccount, settings: Settings) -> Sender:
    if account.sandbox:
        return SandboxClient()
    assert account.api_key and account.sender and account.sid
    return KaleyraClient(
        base_url=account.base_url or base_url_for(account.pod, account.sid),
        api_key=account.api_key,
        sender=account.sender,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        pool_size=max(128, settings.worker_threads),  # a connection for every send in flight
    )


def make_tenant(
    connection: Connection, clock: Callable[[], int], expiry_margin_s: int = 0
) -> Tenant:
    d = connection.defaults
    defaults = OfferDefaults(
        region=d.region,
        language=d.language,
        template_name=d.template_name,
        expires_in=d.offer_lifetime,
        header=d.header,
    )
    return Tenant(
        connection,
        OfferSchema(defaults=defaults, clock=clock, expiry_margin_s=expiry_margin_s),
        LooseOfferSchema(defaults=defaults, clock=clock, expiry_margin_s=expiry_margin_s),
    )


def build_runtime(settings: Settings, clock: Callable[[], int] = wall_clock_ms) -> Runtime:
    """Everything but Flask: also used by the CLI's ``worker``, ``send`` and ``events``."""
    connections = settings.load_connections()
    store = EventStore(settings.database_url, settings.commit_socket)
    store.ensure_schema()
    senders = {c.account.name: make_sender(c.account, settings) for c in connections}
    policy = RetryPolicy(
        base_s=settings.retry_base_s,
        horizon_s=settings.retry_horizon_s,
        retry_uncertain=settings.retry_uncertain,
    )
    slots = slots_for(store.db, settings.redis_url)
    limiter = RateLimiter(slots, {c.account.name: c.account.rate for c in connections})
    deliverer = Deliverer(
        store,
        senders,
        limiter,
        Settler(policy, settings.expiry_margin_s * 1000),
        WorkerConfig(threads=settings.worker_threads, send_lease_ms=settings.lease_ms),
        clock,
    )
    relay = Relay(
        store,
        senders,
        before_send=limiter.acquire,
        dedupe_window_s=settings.dedupe_window_s,
        lease_ms=settings.lease_ms,
    )
    return Runtime(
        settings=settings,
        store=store,
        accounts=AccountStore(store),
        deliverer=deliverer,
        relay=relay,
        connections=connections,
        tenants={c.name: make_tenant(c, clock, settings.expiry_margin_s) for c in connections},
        clock=clock,
    )


def create_app(settings: Settings | None = None, clock: Callable[[], int] = wall_clock_ms) -> Flask:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_level)
    runtime = build_runtime(settings, clock)
    platforms = build_platforms(runtime)

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.extensions["lto"] = runtime
    if settings.proxy_hops:
        hops = settings.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    app.register_blueprint(hooks_blueprint(platforms))
    app.register_blueprint(health_blueprint())
    app.register_blueprint(events_blueprint())
    app.register_blueprint(callbacks_blueprint())
    app.register_blueprint(catalog_blueprint())
    app.register_blueprint(hubspot_options_blueprint())
    app.register_blueprint(hubspot_oauth_blueprint(runtime))
    app.register_blueprint(metrics_blueprint(runtime.store))
    app.register_blueprint(openapi_blueprint(platforms))
    app.register_blueprint(console_blueprint())
    app.register_blueprint(zapier_hooks_blueprint())
    _install_request_log(app)
    _install_error_handlers(app)

    if runtime.connections.sandbox:
        logs.log(
            logging.getLogger("connector"),
            "sandbox mode: no Kaleyra credentials are set, messages are validated but not sent",
            logging.WARNING,
        )
    if settings.open_access:
        logs.log(
            logging.getLogger("connector"),
            "open access: CONNECTOR_API_KEYS is empty, calls are not authenticated (sandbox only)",
            logging.WARNING,
        )
    return app


def _install_request_log(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        g.started = time.perf_counter()

    @app.after_request
    def _log(response: Response) -> Response:
        if not logger.isEnabledFor(logging.INFO):  # its fields cost more than the check
            return response
        started = g.get("started")
        logs.log(
            logger,
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 1) if started else None,
            platform=g.get("platform"),
            event_id=g.get("event_id"),
            remote=request.remote_addr,
        )
        return response


def _install_error_handlers(app: Flask) -> None:
    @app.errorhandler(ConnectorError)
    def _connector_error(error: ConnectorError) -> Response:
        return json_response(error.to_body(), error.status, error.headers())

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        converted = http_error(error)
        # keep what the exception says about itself (405's Allow, RFC 9110), not its HTML type
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        return json_response(converted.to_body(), converted.status, headers)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        logger.exception("unhandled error", extra={"fields": {"path": request.path}})
        body = {
            "code": "internal_error",
            "status": 500,
            "message": "The connector failed unexpectedly; the error is logged.",
            "errors": {},
        }
        return json_response(body, 500)
