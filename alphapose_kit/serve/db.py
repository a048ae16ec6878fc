"""The database connection: one engine per process, SQLite tuned for a server (WAL, busy wait, foreign keys)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from alphapose_kit.errors import AkitError

SQLITE_BUSY_S = 30.0
# connections per process: at least the thread pool's 40 threads (anyio's default), each holding one at a time
POOL = {"pool_size": 20, "max_overflow": 30}


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (sqlite:///FILE or postgresql+psycopg://...); one line for a URL it cannot use."""
    try:
        if url.startswith("sqlite"):
            args = {"timeout": SQLITE_BUSY_S, "check_same_thread": False}
            engine = create_engine(url, connect_args=args, **POOL)
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True, **POOL)
    except Exception as exc:  # an unknown dialect or a driver that is not installed
        raise AkitError(f"cannot use database URL {url!r} ({exc})") from None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers run beside the one writer; foreign keys are off in SQLite unless asked for."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_S * 1000)}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_sessionmaker(engine: Engine) -> sessionmaker:
    """Sessions whose objects stay readable after commit (they are returned as JSON afterwards)."""
    return sessionmaker(engine, expire_on_commit=False)


def upsert_insert(db: Session) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` (SQLite and PostgreSQL alike)."""
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
