"""Bearer tokens (401 for a wrong password, a missing, unknown or expired token) and who sees what: a clinician
only their own subjects and sessions (another's are 404), an admin all of them."""

from __future__ import annotations

import hashlib
import sqlite3

import httpx
import pytest

from tests.serve.conftest import upload


def test_token_for_the_right_password_only(server) -> None:
    good = httpx.post(f"{server.url}/api/token", data={"username": "alice", "password": "alice-pw"})
    assert good.status_code == 200 and good.json()["token_type"] == "bearer"
    me = httpx.get(f"{server.url}/api/me", headers={"Authorization": f"Bearer {good.json()['access_token']}"})
    assert me.json() == {"id": me.json()["id"], "name": "alice", "role": "clinician"}
    for name, password in (("alice", "bob-pw"), ("alice", ""), ("nobody", "alice-pw")):
        wrong = httpx.post(f"{server.url}/api/token", data={"username": name, "password": password})
        assert wrong.status_code in (401, 422) and "access_token" not in wrong.text
    wrong = httpx.post(f"{server.url}/api/token", data={"username": "alice", "password": "bob-pw"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}])
def test_missing_or_unknown_token_is_401(server, headers) -> None:
    for path in ("/api/me", "/api/sessions", "/api/subjects", "/api/jobs/1", "/api/sessions/1/results"):
        answer = httpx.get(server.url + path, headers=headers)
        assert answer.status_code == 401, path
        assert answer.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{server.url}/api/sessions", headers=headers, files={"video": b"x"}).status_code == 401


def test_expired_token_is_401_and_stored_only_as_a_hash(server) -> None:
    token = server.token("bob")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(f"{server.url}/api/me", headers=headers).status_code == 200
    digest = hashlib.sha256(token.encode()).hexdigest()
    with sqlite3.connect(server.data_dir / "akit.db") as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM tokens")]
        assert digest in stored and token not in stored
        db.execute("UPDATE tokens SET expires_at = 0 WHERE token_hash = ?", (digest,))
    assert httpx.get(f"{server.url}/api/me", headers=headers).status_code == 401


def test_a_clinician_sees_only_their_own(server, tmp_path) -> None:
    fake = tmp_path / "x.mp4"
    fake.write_bytes(b"not a video")
    with server.client("alice") as alice, server.client("bob") as bob, server.client("admin") as admin:
        mine = upload(alice, "alice's patient", path=fake).json()
        theirs = upload(bob, "bob's patient", path=fake).json()
        edge = bob.post("/api/sessions", files={"subject": (None, "bob's edge")}).json()
        for other in (theirs, edge):
            for path in ("", "/results", "/analysis", "/frames"):
                assert alice.get(f"/api/sessions/{other['id']}{path}").status_code == 404, path
            assert alice.get(f"/api/subjects/{other['subject']['id']}").status_code == 404
            assert alice.get("/api/sessions", params={"subject": other["subject"]["id"]}).status_code == 404
        assert alice.get(f"/api/jobs/{theirs['job']['id']}").status_code == 404
        line = b'{"frame": 0, "image_id": "0.jpg", "people": []}\n'
        assert alice.post(f"/api/sessions/{edge['id']}/frames", content=line).status_code == 404
        assert alice.get("/api/sessions/999999").status_code == 404  # unknown and forbidden look the same
        alice_sessions = {s["id"] for s in alice.get("/api/sessions").json()}
        alice_subjects = {s["name"] for s in alice.get("/api/subjects").json()}
        admin_sessions = {s["id"] for s in admin.get("/api/sessions").json()}
        assert mine["id"] in alice_sessions and not alice_sessions & {theirs["id"], edge["id"]}
        assert "alice's patient" in alice_subjects and not alice_subjects & {"bob's patient", "bob's edge"}
        assert {mine["id"], theirs["id"], edge["id"]} <= admin_sessions
        assert admin.get(f"/api/sessions/{theirs['id']}").json()["subject"]["name"] == "bob's patient"
        assert admin.get(f"/api/jobs/{theirs['job']['id']}").status_code == 200


def test_page_sign_in_sets_an_http_only_cookie_and_needs_csrf_to_change_things(server) -> None:
    with httpx.Client(base_url=server.url, timeout=60) as page:
        wrong = page.post("/api/login", data={"username": "alice", "password": "nope"})
        assert wrong.status_code == 401 and "akit_session" not in page.cookies
        answer = page.post("/api/login", data={"username": "alice", "password": "alice-pw"})
        assert answer.status_code == 200 and answer.json()["name"] == "alice"
        cookies = answer.headers.get_list("set-cookie")
        session = next(c for c in cookies if c.startswith("akit_session="))
        csrf = next(c for c in cookies if c.startswith("akit_csrf="))
        assert "httponly" in session.lower() and "samesite=strict" in session.lower()
        assert "httponly" not in csrf.lower()
        assert page.get("/api/me").json()["name"] == "alice"  # the cookie alone reads
        form = {"subject": (None, "cookie edge")}
        assert page.post("/api/sessions", files=form).status_code == 403  # no CSRF header
        assert page.post("/api/sessions", files=form, headers={"X-CSRF-Token": "guess"}).status_code == 403
        made = page.post("/api/sessions", files=form, headers={"X-CSRF-Token": page.cookies["akit_csrf"]})
        assert made.status_code == 201
        page.cookies.set("akit_session", "forged")
        assert page.get("/api/me").status_code == 401
