"""The FastAPI application: :func:`create_app` builds it from a :class:`ServeSettings` (routers, dependencies,
and a lifespan that migrates the database, re-queues interrupted jobs and runs the worker pool)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from alphapose_kit import __version__
from alphapose_kit.serve import routes_auth, routes_jobs, routes_sessions, routes_web
from alphapose_kit.serve.db import make_engine, make_sessionmaker
from alphapose_kit.serve.jobs import requeue_interrupted
from alphapose_kit.serve.migrate import upgrade
from alphapose_kit.serve.routes_sessions import UPLOADS
from alphapose_kit.serve.settings import ServeSettings
from alphapose_kit.serve.worker import WorkerPool
from alphapose_kit.utils.logging import get_logger

log = get_logger("serve")


def prepare(settings: ServeSettings) -> int:
    """Folders, schema (Alembic, to the newest revision) and the queue after a crash; returns jobs re-queued."""
    (settings.data_dir / UPLOADS).mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
        with make_sessionmaker(engine)() as db:
            return requeue_interrupted(db)
    finally:
        engine.dispose()


def create_app(settings: ServeSettings) -> FastAPI:
    """The akit server for ``settings``: API under /api, the page at /, /healthz, OpenAPI docs at /docs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        requeued = prepare(settings)
        if requeued:
            log.warning(f"{requeued} job(s) interrupted by the last shutdown re-queued")
        pool = WorkerPool(settings)
        pool.start()
        try:
            yield
        finally:
            pool.stop()
            app.state.engine.dispose()

    app = FastAPI(title="akit serve", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.sessions = make_sessionmaker(app.state.engine)
    app.include_router(routes_auth.router)
    app.include_router(routes_sessions.router)
    app.include_router(routes_jobs.router)
    app.include_router(routes_web.router)
    app.mount("/static", routes_web.static, name="static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """The server answers and its database too (503 when the database does not)."""
        try:
            with app.state.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    return app
