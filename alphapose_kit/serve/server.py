"""Run the server (uvicorn) or add an account, from :class:`ServeSettings`: what ``akit serve`` calls."""

from __future__ import annotations

import ipaddress

from alphapose_kit.serve.accounts import create_user
from alphapose_kit.serve.app import create_app, prepare
from alphapose_kit.serve.db import make_engine, make_sessionmaker
from alphapose_kit.serve.settings import ServeSettings
from alphapose_kit.utils.logging import get_logger

log = get_logger("serve")
GRACEFUL_S = 5  # open event streams are cut after this at shutdown


def add_user(settings: ServeSettings, name: str, role: str, password: str) -> None:
    """Create the schema if needed and add one user."""
    prepare(settings)
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as db:
            create_user(db, name, role, password)
    finally:
        engine.dispose()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run_server(settings: ServeSettings) -> None:
    """Serve until stopped (Ctrl-C / SIGTERM stop the workers too; a running job is re-queued)."""
    import uvicorn

    settings.validate()
    if not _is_loopback(settings.host):
        log.warning(f"listening on {settings.host}: reachable from other machines (put TLS in front of it)")
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, timeout_graceful_shutdown=GRACEFUL_S)
