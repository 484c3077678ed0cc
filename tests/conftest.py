"""Shared fixtures: the loopback Kaleyra, real databases, and the connector on a real socket."""
# ``offer`` and ``CONNECTOR_KEY`` live in modules without pytest (benchmarks import them too)

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from connector import create_app
from connector.config import Settings
from connector.platforms import Runtime
from tests.kaleyra_fake import API_KEY, SENDER, SID, FakeKaleyra
from tests.offers import offer
from tests.served import CONNECTOR_KEY

__all__ = ["CONNECTOR_KEY", "LiveConnector", "deliver_queued", "live_settings", "offer"]

HUBSPOT_SECRET = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy"
POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def kaleyra() -> Iterator[FakeKaleyra]:
    fake = FakeKaleyra().start()
    yield fake
    fake.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh database on this machine's PostgreSQL, dropped afterwards."""
    name = f"lto_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/events.db"
    return str(request.getfixturevalue("pg_url"))


@dataclass
class LiveConnector:
    base_url: str
    runtime: Runtime
    settings: Settings

    def post(
        self, path: str, *, key: str | None = CONNECTOR_KEY, **kwargs: Any
    ) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if key is not None:
            headers.setdefault("X-Api-Key", key)
        return requests.post(self.base_url + path, headers=headers, timeout=30, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.base_url + path, timeout=30, **kwargs)


def live_settings(kaleyra: FakeKaleyra | None, database_url: str, **overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "database_url": database_url,
        "api_keys": (CONNECTOR_KEY,),
        "default_region": "IN",
        "hubspot_client_secret": HUBSPOT_SECRET,
        "read_timeout": 2.0,
        "connect_timeout": 1.0,
    }
    if kaleyra is not None:
        base.update(
            kaleyra_sid=SID,
            kaleyra_api_key=API_KEY,
            kaleyra_sender=SENDER,
            kaleyra_base_url=kaleyra.base_url,
        )
    base.update(overrides)
    settings = Settings(**base)
    settings.check()
    return settings


@pytest.fixture
def start_connector(tmp_path: Any, kaleyra: FakeKaleyra) -> Iterator[Callable[..., LiveConnector]]:
    """Start the connector app on 127.0.0.1 (a real threaded HTTP server)."""
    servers: list[Any] = []

    def start(
        *, sandbox: bool = False, clock: Callable[[], int] | None = None, **overrides: Any
    ) -> LiveConnector:
        overrides.setdefault("database_url", f"sqlite:///{tmp_path}/connector-{len(servers)}.db")
        settings = live_settings(None if sandbox else kaleyra, **overrides)
        app = create_app(settings, clock) if clock else create_app(settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        return LiveConnector(
            f"http://127.0.0.1:{server.server_port}", app.extensions["lto"], settings
        )

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def connector(start_connector: Callable[..., LiveConnector]) -> LiveConnector:
    return start_connector()


@pytest.fixture
def start_tenants(
    start_connector: Callable[..., LiveConnector],
    kaleyra: FakeKaleyra,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[..., LiveConnector]:
    """The connector serving tests/platform_cases.py's connections file (tenants ``acme``, live
    against the loopback Kaleyra, and ``other``); ``edit`` may change the document first."""
    import yaml

    from tests.platform_cases import SHOPIFY_SECRET, connections_yaml

    monkeypatch.setenv("TEST_ACME_KALEYRA_KEY", API_KEY)
    monkeypatch.setenv("TEST_SHOPIFY_SECRET", SHOPIFY_SECRET)

    def start(edit: Callable[[dict[str, Any]], None] | None = None) -> LiveConnector:
        doc = yaml.safe_load(connections_yaml(kaleyra.base_url, HUBSPOT_SECRET))
        if edit is not None:
            edit(doc)
        path = tmp_path / f"connections-{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return start_connector(sandbox=True, connections_file=str(path))

    return start


@pytest.fixture
def tenants(start_tenants: Callable[..., LiveConnector]) -> LiveConnector:
    return start_tenants()


def deliver_queued(connector: LiveConnector) -> None:
    """What a queue worker does: deliver every queued event (the same ``deliver``)."""
    runtime = connector.runtime
    for event in runtime.store.recent(limit=500, status="queued"):
        runtime.deliverer.deliver(event.id)
