"""Uploads: streamed to disk under a size limit (413 over it, whether the length is declared or not), and the
client's file name never becomes a path (traversal, odd characters): the file lands in its session's folder."""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from tests.serve.conftest import VIDEO, upload

LIMIT = 1024 * 1024  # the server fixture's --max-upload-mb 1


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_over_the_limit_is_413_and_leaves_no_file(server) -> None:
    before = files_under(server.data_dir)
    big = b"\0" * (LIMIT + 1)
    with server.client("alice") as alice:
        declared = alice.post("/api/sessions", data={"subject": "big"}, files={"video": ("big.mp4", big)})

        def chunks():
            boundary = "b0undary"
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="subject"\r\n\r\nbig\r\n'.encode()
            yield f'--{boundary}\r\nContent-Disposition: form-data; name="video"; filename="v.mp4"\r\n\r\n'.encode()
            for _ in range(3):
                yield b"\0" * (LIMIT // 2)
            yield f"\r\n--{boundary}--\r\n".encode()

        streamed = alice.post(
            "/api/sessions", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b0undary"}
        )
        exactly = alice.post("/api/sessions", data={"subject": "limit"}, files={"video": ("v.mp4", big[:LIMIT])})
    assert declared.status_code == 413 and "limit" in declared.json()["detail"]
    assert "content-length" not in streamed.request.headers and streamed.status_code == 413
    assert exactly.status_code == 201  # the limit itself is allowed
    new = files_under(server.data_dir) - before
    assert not any(p.suffix == ".part" for p in new)
    assert {p.parent.parent.name for p in new if p.name.startswith("video")} <= {"sessions"}


@pytest.mark.parametrize(
    "name",
    [
        "../../../../escape.mp4",
        "..\\..\\windows.avi",
        "/etc/passwd",
        "sub/dir/../../x.mkv",
        "a\nb\r\n.mp4",
        "nul\0byte.mp4",
        "видео 😀 <b>.mp4",
        "." * 300,
        "",
    ],
)
def test_the_file_name_is_never_a_path(server, name) -> None:
    root = server.data_dir.parent
    before = files_under(root)
    with server.client("alice") as alice:
        answer = upload(alice, "names", filename=name)
    assert answer.status_code == 201, answer.text
    session = answer.json()
    new = files_under(root) - before
    stored = [p for p in new if p.name.startswith("video.")]
    assert len(stored) == 1, new
    assert stored[0].parent == server.data_dir / "sessions" / str(session["id"])
    assert stored[0].suffix in (".mp4", ".avi", ".mkv")
    assert hashlib.sha256(stored[0].read_bytes()).digest() == hashlib.sha256(VIDEO.read_bytes()).digest()
    shown = session["video_name"]
    assert shown is None or ("/" not in shown and "\\" not in shown and "\n" not in shown and "\0" not in shown)


def test_form_errors_are_4xx(server) -> None:
    with server.client("alice") as alice:
        assert alice.post("/api/sessions", files={"video": ("v.mp4", b"x")}).status_code == 422  # no subject
        assert (
            alice.post("/api/sessions", data={"subject": "s", "exercise": "yoga"}, files={"video": b"x"}).status_code
            == 422
        )
        assert alice.post("/api/sessions", data={"subject": "x" * 201}, files={"video": b"x"}).status_code == 422
        assert alice.post("/api/sessions", json={"subject": "s"}).status_code == 415
        bad = alice.post(
            "/api/sessions", content=b"--x\r\ngarbage", headers={"Content-Type": "multipart/form-data; boundary=x"}
        )
        assert bad.status_code in (400, 422)
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok", "database": "ok"}


def test_the_server_listens_on_loopback_only(server) -> None:
    """Unless --host says otherwise: the listening socket (from the kernel's table) is bound to 127.0.0.1."""
    listening = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, port = local.rsplit(":", 1)
            if state == "0A" and int(port, 16) == server.port:  # 0A: LISTEN
                listening.append(address)
    assert listening == ["0100007F"]  # 127.0.0.1, little-endian hex
