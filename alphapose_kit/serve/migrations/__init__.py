"""Alembic migrations of the server's schema, run by :func:`alphapose_kit.serve.migrate.upgrade` at start-up."""
