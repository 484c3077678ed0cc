"""Schema migrations: a store filled by the previous release upgrades with every event kept;
`serve` on an outdated store stops with one line; the migrated schema is the one the code uses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from connector.store import EventStore
from connector.store.migrate import current, head
from connector.store.schema import metadata
from tests.served import CLI

FIXTURES = Path(__file__).parent / "fixtures" / "store"
# what release 0.1.0 stored (tests/fixtures/store/SOURCE.md): id → status
V010_EVENTS = {
    "accepted": 2,
    "queued": 2,
    "dead": 1,
    "uncertain": 1,
    "failed": 1,
}


def load_v010(db_url: str) -> None:
    """Fill an empty database with the previous release's dump."""
    if db_url.startswith("sqlite"):
        path = db_url.removeprefix("sqlite:///")
        subprocess.run(["sqlite3", path], input=(FIXTURES / "v0.1.0-sqlite.sql").read_text(),
                       text=True, check=True)  # fmt: skip
        return
    libpq_url = db_url.replace("postgresql+psycopg://", "postgresql://")
    dump = FIXTURES / "v0.1.0-postgresql.sql"
    psql = ["psql", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(dump), libpq_url]
    subprocess.run(psql, check=True, capture_output=True)


def cli(db_url: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KALEYRA_", "CONNECTOR_"))}
    env["CONNECTOR_DATABASE_URL"] = db_url
    return subprocess.run([*CLI, *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_a_store_filled_by_the_previous_release_upgrades_with_every_event_kept(
    db_url: str, tmp_path: Path
) -> None:
    load_v010(db_url)
    store = EventStore(db_url)
    assert current(store.db) == "0001"  # no version table: recognised as release 0.1.0's

    refused = cli(db_url, "serve", "--bind", "127.0.0.1:1", cwd=tmp_path)
    assert refused.returncode == 2
    [line] = refused.stderr.strip().splitlines()  # one line, with what to do
    assert "revision 0001" in line and "lto-connector db upgrade" in line

    upgraded = cli(db_url, "db", "upgrade", cwd=tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"upgraded from revision 0001 to {head()}" in upgraded.stdout
    assert current(store.db) == head()
    kept = store.recent(100)
    assert {s: sum(e.status == s for e in kept) for s in V010_EVENTS} == V010_EVENTS
    assert {e.recipient_last4 for e in kept} == {"3210"}  # filled from each stored offer
    assert {e.expires_ms for e in kept} == {4_000_000_000_000}
    by_platform = {e.platform: e.platform_ref for e in kept}
    assert by_platform["webengage"] == "we-msg-77"  # the platform's id, from the dedupe key
    assert by_platform["hubspot_action"] == "cb-9"
    [accepted] = [e for e in kept if e.platform == "clevertap"]
    assert accepted.message_id == "AMSG0000000000000001"
    assert [a["kaleyra_code"] for a in store.attempts_of(accepted.id)] == ["WA202"]
    again = cli(db_url, "db", "upgrade", cwd=tmp_path)
    assert again.returncode == 0 and "already at revision" in again.stdout
    queued = cli(db_url, "events", "--status", "queued", "--json", cwd=tmp_path)
    assert queued.returncode == 0 and queued.stdout.count('"status": "queued"') == 2
    store.dispose()


def test_the_migrated_schema_is_the_one_the_code_uses(db_url: str, tmp_path: Path) -> None:
    load_v010(db_url)
    assert cli(db_url, "db", "upgrade", cwd=tmp_path).returncode == 0
    store = EventStore(db_url)
    with store.db.write() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    store.dispose()
    assert differences == []


def test_an_empty_store_is_created_at_the_newest_revision(db_url: str, tmp_path: Path) -> None:
    store = EventStore(db_url)
    assert current(store.db) is None
    store.ensure_schema()
    assert current(store.db) == head()
    with store.db.write() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    store.dispose()


def test_a_postgresql_url_without_its_driver_says_which_extra_to_install(tmp_path: Path) -> None:
    probe = subprocess.run(
        [*CLI[:1], "-c", "import sys; sys.modules['psycopg'] = None; "
         "from connector.cli import main; main(['events'])"],
        env={"CONNECTOR_DATABASE_URL": "postgresql://u@127.0.0.1/x", "PATH": "/usr/bin:/bin"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 2
    [line] = probe.stderr.strip().splitlines()
    assert "pip install 'kaleyra-lto-connector[postgres]'" in line
    assert "Traceback" not in probe.stderr
