"""The server on a real PostgreSQL (the suite starts one): migrations, accounts, a job run to the end, clinician
isolation, de-duplicated edge frames and 20 concurrent uploads, as on SQLite."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, text

from tests.serve.conftest import Server, free_port, upload, wait_job
from tests.serve.postgres import pg_bin, postgres_server

pytestmark = pytest.mark.skipif(pg_bin() is None, reason="PostgreSQL is not installed (Debian: postgresql)")


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, job_options):
    with postgres_server(free_port()) as url:
        server = Server(tmp_path_factory.mktemp("pg") / "data", job_options, "--workers", "1", db=url)
        server.add_users()
        server.start()
        try:
            yield server, url
        finally:
            server.stop()


def test_the_whole_service_on_postgresql(pg_server) -> None:
    server, url = pg_server
    engine = create_engine(url)
    with engine.connect() as db:
        assert db.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == "0003"
        assert db.execute(text("SELECT COUNT(*) FROM users")).scalar_one() == 3
    assert not (server.data_dir / "akit.db").exists()
    with server.client("alice") as alice, server.client("bob") as bob:
        session = upload(alice, "pg patient", exercise="squat").json()
        job = wait_job(alice, session["job"]["id"])
        assert job["status"] == "done" and job["frames_done"] == 5, job
        assert len(alice.get(f"/api/sessions/{session['id']}/results").json()) == 10
        assert alice.get(f"/api/sessions/{session['id']}/analysis").json()["reps"]["exercise"] == "squat"
        assert bob.get(f"/api/sessions/{session['id']}").status_code == 404
        edge = alice.post("/api/sessions", files={"subject": (None, "pg edge")}).json()
        body = b'{"frame": 0, "image_id": "0.jpg", "people": []}\n{"frame": 1, "image_id": "1.jpg", "people": []}\n'
        assert alice.post(f"/api/sessions/{edge['id']}/frames", content=body).json()["stored"] == 2
        assert alice.post(f"/api/sessions/{edge['id']}/frames", content=body).json()["duplicates"] == 2
        with ThreadPoolExecutor(max_workers=20) as pool:
            answers = list(
                pool.map(
                    lambda n: alice.post(
                        "/api/sessions", data={"subject": f"pg {n % 5}"}, files={"video": ("v.mp4", os.urandom(4096))}
                    ),
                    range(20),
                )
            )
        assert [a.status_code for a in answers] == [201] * 20
    token = server.token("bob")
    with engine.begin() as db:
        db.execute(text("UPDATE tokens SET expires_at = 0"))
    with server.client("alice") as alice:  # a fresh token works, the expired one does not
        assert alice.get("/api/me").status_code == 200
        assert alice.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    with engine.connect() as db:
        assert db.execute(text("SELECT COUNT(*) FROM subjects WHERE name LIKE 'pg %'")).scalar_one() == 7
    engine.dispose()
