"""``akit serve``: the clinic's and the coach's server (FastAPI on uvicorn), or ``--create-user`` to add an account.

Needs the serve extra (``pip install 'alphapose-kit[serve]'``); without it the command says so in one line.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from alphapose_kit.errors import AkitError

PASSWORD_ENV = "AKIT_PASSWORD"


def read_password() -> str:
    """The new user's password: AKIT_PASSWORD, else one line of stdin (asked for without echo on a terminal)."""
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if sys.stdin.isatty():
            import getpass

            password = getpass.getpass("password: ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise AkitError(f"no password: give it on stdin or in {PASSWORD_ENV} (there is no default)")
    return password


def serve_command(
    db: Annotated[str | None, typer.Option("--db", help="database URL (default: SQLite in --data-dir)")] = None,
    data_dir: Annotated[Path, typer.Option("--data-dir", help="videos, results and the SQLite file")] = Path(
        "akit-serve"
    ),
    host: Annotated[str, typer.Option("--host", help="address to listen on (loopback unless told)")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="worker processes running jobs")] = 1,
    max_upload_mb: Annotated[float, typer.Option("--max-upload-mb", help="largest video accepted")] = 512.0,
    token_ttl: Annotated[float, typer.Option("--token-ttl", help="seconds a sign-in token is valid")] = 43200.0,
    job_options: Annotated[
        str | None,
        typer.Option(
            "--job-options", help='InferOptions fields for every job, JSON or a file: {"checkpoint": "w.pth"}'
        ),
    ] = None,
    fall_webhook: Annotated[
        str | None, typer.Option("--fall-webhook", help="URL that gets a JSON POST for each fall in an edge stream")
    ] = None,
    create_user: Annotated[
        str | None, typer.Option("--create-user", help="add this user (password on stdin or AKIT_PASSWORD) and exit")
    ] = None,
    role: Annotated[str, typer.Option("--role", help="admin or clinician (with --create-user)")] = "clinician",
) -> None:
    """Serve the API (uploads, jobs, results, analysis, edge pushes) on SQLite or PostgreSQL; docs at /docs."""
    from alphapose_kit.serve import require_extra

    require_extra()
    from alphapose_kit.serve.accounts import check_user_name
    from alphapose_kit.serve.models import ROLES
    from alphapose_kit.serve.server import add_user, run_server
    from alphapose_kit.serve.settings import ServeSettings, parse_job_options

    settings = ServeSettings(
        data_dir=data_dir,
        db_url=db,
        host=host,
        port=port,
        workers=workers,
        max_upload_bytes=int(max_upload_mb * 1024 * 1024),
        token_ttl_s=token_ttl,
        job_options=parse_job_options(job_options),
        fall_webhook=fall_webhook,
    )
    if create_user is not None:
        if role not in ROLES:
            raise AkitError(f"unknown --role {role!r}; choose one of {', '.join(ROLES)}")
        add_user(settings, check_user_name(create_user), role, read_password())
        typer.echo(f"user {create_user} ({role}) added")
        return
    run_server(settings)
