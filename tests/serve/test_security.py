"""Hostile input: SQL-looking text in every field is data (stored and returned as sent, or refused as the wrong
type), HTML in names comes back as JSON text, and 20 concurrent uploads with result reads lose nothing (no 5xx)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.serve.conftest import upload, wait_job

SQL = ["'; DROP TABLE users; --", '" OR "1"="1', "1 OR 1=1", "admin'--", "%' UNION SELECT password_hash FROM users --"]
HTML = '<script>alert("x")</script><img src=x onerror=alert(1)>'
HTML_FILE = '<img src=x onerror="alert(1)">.mp4'  # no "/": a file name's folders are dropped


def table_counts(server) -> dict[str, int]:
    with sqlite3.connect(server.data_dir / "akit.db") as db:
        return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("users", "subjects", "sessions")}


def test_sql_looking_input_in_every_field_is_data(server, tmp_path) -> None:
    fake = tmp_path / "x.mp4"
    fake.write_bytes(b"not a video")
    users_before = table_counts(server)["users"]
    with server.client("alice") as alice:
        for text in SQL:
            for name, password in ((text, "alice-pw"), ("alice", text), (text, text)):
                answer = httpx.post(f"{server.url}/api/token", data={"username": name, "password": password})
                assert answer.status_code == 401
            session = upload(alice, text, path=fake, filename=f"{text}.mp4").json()
            assert session["subject"]["name"] == text.strip()
            assert session["video_name"] == f"{text}.mp4".replace('"', "%22")  # as HTML forms (and httpx) send it
            assert alice.get(f"/api/subjects/{session['subject']['id']}").json()["name"] == text.strip()
            listed = alice.get("/api/sessions", params={"subject": session["subject"]["id"]}).json()
            assert [s["id"] for s in listed] == [session["id"]]
            assert upload(alice, "s", path=fake, exercise=text).status_code == 422
            for path in (f"/api/sessions/{text}", f"/api/jobs/{text}", f"/api/subjects/{text}"):
                assert alice.get(path).status_code in (404, 422), path
            assert alice.get("/api/sessions", params={"subject": text}).status_code == 422
            edge = alice.post("/api/sessions", files={"subject": (None, text)}).json()
            line = f'{{"frame": 0, "image_id": {text!r}, "people": [{{"note": {text!r}}}]}}\n'.replace("'", '"')
            pushed = alice.post(f"/api/sessions/{edge['id']}/frames", content=line.encode())
            if pushed.status_code == 200:
                assert alice.get(f"/api/sessions/{edge['id']}/frames").json()[0]["frame"] == 0
            else:
                assert pushed.status_code == 422  # not JSON once quoted: refused, not run
            assert alice.get(f"/api/sessions/{edge['id']}/frames", params={"after": text}).status_code == 422
    counts = table_counts(server)
    assert counts["users"] == users_before
    with sqlite3.connect(server.data_dir / "akit.db") as db:
        names = {row[0] for row in db.execute("SELECT name FROM subjects")}
    assert {t.strip() for t in SQL} <= names


def test_html_in_names_is_returned_as_text(server, tmp_path) -> None:
    fake = tmp_path / "x.mp4"
    fake.write_bytes(b"not a video")
    with server.client("alice") as alice:
        session = upload(alice, HTML, path=fake, filename=HTML_FILE).json()
        answer = alice.get(f"/api/sessions/{session['id']}")
    assert answer.headers["content-type"] == "application/json"
    assert answer.json()["subject"]["name"] == HTML
    assert answer.json()["video_name"] == HTML_FILE.replace('"', "%22")


def test_20_concurrent_uploads_and_result_reads(server) -> None:
    with server.client("alice") as alice:
        done = upload(alice, "concurrency", exercise="squat").json()
        assert wait_job(alice, done["job"]["id"])["status"] == "done"
        expected = alice.get(f"/api/sessions/{done['id']}/results").content
        payloads = [os.urandom(64 * 1024) for _ in range(20)]

        def send(n: int) -> httpx.Response:
            files = {"video": (f"c{n}.mp4", payloads[n])}
            return alice.post("/api/sessions", data={"subject": f"concurrent {n % 5}"}, files=files)

        def read(_: int) -> httpx.Response:
            return alice.get(f"/api/sessions/{done['id']}/results")

        with ThreadPoolExecutor(max_workers=40) as pool:
            sent = [pool.submit(send, n) for n in range(20)]
            reads = [pool.submit(read, n) for n in range(20)]
            sent_answers = [f.result(timeout=120) for f in sent]
            read_answers = [f.result(timeout=120) for f in reads]
        assert [a.status_code for a in sent_answers] == [201] * 20, [a.text for a in sent_answers]
        assert all(a.status_code == 200 and a.content == expected for a in read_answers)
        listed = {s["id"]: s for s in alice.get("/api/sessions").json()}
    for n, answer in enumerate(sent_answers):
        session = listed[answer.json()["id"]]
        assert session["subject"]["name"] == f"concurrent {n % 5}" and session["video_bytes"] == len(payloads[n])
        stored = server.data_dir / "sessions" / str(session["id"]) / "video.mp4"
        assert hashlib.sha256(stored.read_bytes()).digest() == hashlib.sha256(payloads[n]).digest()
    with sqlite3.connect(server.data_dir / "akit.db") as db:  # a subject named by 4 concurrent uploads: one row
        rows = db.execute("SELECT name, COUNT(*) FROM subjects WHERE name LIKE 'concurrent %' GROUP BY name").fetchall()
    assert sorted(rows) == [(f"concurrent {n}", 1) for n in range(5)]
