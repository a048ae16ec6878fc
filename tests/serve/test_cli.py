"""`akit serve` on the command line: the missing extra in one line, --create-user (argon2 hash, no default
password), the schema made by the shipped Alembic migrations, bad settings refused before the server starts."""

from __future__ import annotations

import io
import sqlite3
import sys

import pytest
from argon2 import PasswordHasher

from alphapose_kit.cli.app import main
from tests.serve.conftest import run_cli

TABLES = {"alembic_version", "users", "tokens", "subjects", "sessions", "jobs", "frames", "alerts"}


def test_without_the_extra_one_line_says_how_to_install(monkeypatch, capsys) -> None:
    monkeypatch.setitem(sys.modules, "fastapi", None)  # what an interpreter without FastAPI does on import
    assert main(["serve"]) == 1
    err = capsys.readouterr().err
    assert (
        err == "akit: error: akit serve needs the serve extra (fastapi missing): pip install 'alphapose-kit[serve]'\n"
    )


def test_the_package_imports_without_the_extra(monkeypatch) -> None:
    for name in ("fastapi", "uvicorn", "sqlalchemy", "alembic", "argon2", "python_multipart"):
        monkeypatch.setitem(sys.modules, name, None)
    for name in [m for m in sys.modules if m.startswith("alphapose_kit.serve")]:
        monkeypatch.delitem(sys.modules, name)
    import alphapose_kit.io.push  # the edge client: standard library only
    import alphapose_kit.serve

    assert alphapose_kit.io.push.FramePusher


def test_create_user_stores_an_argon2_hash_and_the_schema_revision(tmp_path) -> None:
    done = run_cli("--create-user", "carol", "--role", "clinician", password="s3cret-pw\n", data_dir=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "user carol (clinician) added\n"
    with sqlite3.connect(tmp_path / "akit.db") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        (revision,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        name, role, stored = db.execute("SELECT name, role, password_hash FROM users").fetchone()
    assert TABLES <= tables and revision == "0003"
    assert (name, role) == ("carol", "clinician") and stored.startswith("$argon2id$")
    assert PasswordHasher().verify(stored, "s3cret-pw")


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--create-user", "dan"], "", "akit: error: no password: give it on stdin or in AKIT_PASSWORD"),
        (["--create-user", "dan", "--role", "root"], "pw", "akit: error: unknown --role 'root'"),
        (["--create-user", "  "], "pw", "akit: error: a user name is 1 to 200 printable characters"),
        (["--port", "0"], None, "akit: error: --port must be in 1..65535, got 0"),
        (["--job-options", "[1]"], None, "akit: error: --job-options must be a JSON object"),
        (["--job-options", '{"nope": 1}'], None, "akit: error: unknown job option 'nope'"),
        (["--job-options", '{"source": "x"}'], None, "akit: error: job option 'source' is set by each job"),
        (["--job-options", '{"pose_nms": "x"}'], None, "akit: error: unknown pose NMS 'x'"),
        (["--db", "nosuchdb://x"], None, "akit: error: cannot use database URL 'nosuchdb://x'"),
    ],
)
def test_bad_input_is_one_line(tmp_path, monkeypatch, capsys, args, password, message) -> None:
    monkeypatch.delenv("AKIT_PASSWORD", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(password or ""))
    assert main(["serve", "--data-dir", str(tmp_path), *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1, err


def test_password_from_the_environment_and_a_taken_name(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AKIT_PASSWORD", "env-pw")
    assert main(["serve", "--data-dir", str(tmp_path), "--create-user", "eve"]) == 0
    assert main(["serve", "--data-dir", str(tmp_path), "--create-user", "eve", "--role", "admin"]) == 1
    assert capsys.readouterr().err == "akit: error: user 'eve' already exists\n"
    with sqlite3.connect(tmp_path / "akit.db") as db:
        rows = db.execute("SELECT role, password_hash FROM users WHERE name = 'eve'").fetchall()
    assert len(rows) == 1 and rows[0][0] == "clinician" and PasswordHasher().verify(rows[0][1], "env-pw")


def test_a_database_at_the_first_revision_is_upgraded_keeping_its_rows(tmp_path, monkeypatch, capsys) -> None:
    from alphapose_kit.serve.db import make_engine
    from alphapose_kit.serve.migrate import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'akit.db'}")
    assert upgrade(engine, "0001") == "0001"
    engine.dispose()
    with sqlite3.connect(tmp_path / "akit.db") as db:
        db.execute("INSERT INTO users VALUES (1, 'old', 'admin', 'x', 0)")
        db.execute("INSERT INTO subjects VALUES (1, 1, 'subject', 0)")
        db.execute("INSERT INTO sessions VALUES (1, 1, 1, 'edge', NULL, NULL, NULL, NULL, 0)")
        db.execute("INSERT INTO frames VALUES (1, 1, 0, '{}', 0)")  # a table copy would cascade into frames
    monkeypatch.setenv("AKIT_PASSWORD", "pw")
    assert main(["serve", "--data-dir", str(tmp_path), "--create-user", "new"]) == 0, capsys.readouterr().err
    with sqlite3.connect(tmp_path / "akit.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchone() == ("0003",)
        columns = [row[1] for row in db.execute("PRAGMA table_info(sessions)")]
        assert "fps" in columns
        assert db.execute("SELECT id, kind, fps FROM sessions").fetchall() == [(1, "edge", None)]
        assert [row[0] for row in db.execute("SELECT name FROM users ORDER BY id")] == ["old", "new"]
        assert db.execute("SELECT session_id, frame_index FROM frames").fetchall() == [(1, 0)]
