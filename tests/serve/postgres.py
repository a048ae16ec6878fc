"""A throw-away PostgreSQL server for the tests (Debian's `postgresql` package): initdb into a temporary folder,
listen on a free loopback port, trust authentication, removed afterwards. As root it runs as the postgres user."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PG_ROOT = Path("/usr/lib/postgresql")


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder, or None."""
    versions = sorted((p for p in PG_ROOT.glob("*/bin") if (p / "initdb").exists()), key=lambda p: int(p.parent.name))
    return versions[-1] if versions else None


def _run(*command: str | Path) -> None:
    as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    subprocess.run([*as_user, *map(str, command)], check=True, capture_output=True, timeout=120)


@contextmanager
def postgres_server(port: int) -> Iterator[str]:
    """A running PostgreSQL with database ``akit``; yields its postgresql+psycopg URL."""
    bin_dir = pg_bin()
    assert bin_dir is not None
    folder = Path(tempfile.mkdtemp(prefix="akit-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    _run(bin_dir / "initdb", "-D", data, "-A", "trust", "-U", "akit", "--no-sync", "-E", "UTF8")
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    _run(bin_dir / "pg_ctl", "-D", data, "-o", options, "-l", folder / "log", "-w", "start")
    try:
        _run(bin_dir / "createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "akit", "akit")
        yield f"postgresql+psycopg://akit@127.0.0.1:{port}/akit"
    finally:
        _run(bin_dir / "pg_ctl", "-D", data, "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)
