"""Alembic environment: migrate the connection that :func:`alphapose_kit.serve.migrate.upgrade` hands over."""

from __future__ import annotations

from alembic import context

from alphapose_kit.serve.models import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
)
with context.begin_transaction():
    context.run_migrations()
