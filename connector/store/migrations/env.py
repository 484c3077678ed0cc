"""Alembic's environment: the connection comes from ``connector.store.migrate`` (never a URL in
an ini file), so ``lto-connector db upgrade`` migrates exactly the store the connector uses."""

from __future__ import annotations

from alembic import context

from connector.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
