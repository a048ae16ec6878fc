"""A server killed mid-job (SIGKILL: no clean-up at all) loses nothing: its worker exits on its own, and the
restarted server re-queues the job, which then finishes with every frame."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import cv2

from tests.serve.conftest import VIDEO, Server, upload, wait_job

FRAMES = 60


def long_video(path: Path) -> Path:
    """The shared video's frames over and over: FRAMES frames at its size, so the detection file's boxes fit."""
    capture = cv2.VideoCapture(str(VIDEO))
    frames = []
    while (grabbed := capture.read())[0]:
        frames.append(grabbed[1])
    capture.release()
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 5.0, (width, height))
    for n in range(FRAMES):
        writer.write(frames[n % len(frames)])
    writer.release()
    return path


def workers_of(pid: int) -> list[int]:
    """Worker processes started by server ``pid`` (they carry its pid in their environment)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                environ = (entry / "environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"AKIT_SERVE_PARENT={pid}".encode() in environ:
                found.append(int(entry.name))
    return found


def test_job_of_a_killed_server_finishes_after_restart(tmp_path, job_options) -> None:
    server = Server(tmp_path / "data", job_options, "--workers", "1")
    server.add_users()
    server.start()
    video = long_video(tmp_path / "long.mp4")
    try:
        with server.client("alice") as alice:
            session = upload(alice, "restart", path=video).json()
            job_id = session["job"]["id"]
            deadline = time.monotonic() + 240
            while time.monotonic() < deadline:
                job = alice.get(f"/api/jobs/{job_id}").json()
                if job["status"] == "running" and 0 < job["frames_done"]:
                    break
                assert job["status"] in ("queued", "running"), job
                time.sleep(0.1)
        assert job["frames_done"] < FRAMES, "the job ended before the kill; make the video longer"
        assert server.process is not None
        pid = server.process.pid
        assert workers_of(pid)
        server.kill()
        deadline = time.monotonic() + 15
        while workers_of(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not workers_of(pid), "an orphaned worker kept running"
        with sqlite3.connect(server.data_dir / "akit.db") as db:
            assert db.execute("SELECT status, attempt FROM jobs WHERE id = ?", (job_id,)).fetchone() == ("running", 1)
        server.start()
        with server.client("alice") as alice:
            job = wait_job(alice, job_id)
            records = alice.get(f"/api/sessions/{session['id']}/results").json()
        assert job["status"] == "done" and job["frames_done"] == FRAMES, job
        frames = sorted({int(r["image_id"].split(".")[0]) for r in records})
        assert frames == list(range(FRAMES)) and len(records) == 2 * FRAMES
        with sqlite3.connect(server.data_dir / "akit.db") as db:
            assert db.execute("SELECT attempt FROM jobs WHERE id = ?", (job_id,)).fetchone() == (2,)
        assert "1 job(s) interrupted by the last shutdown re-queued" in server.log.read_text()
    finally:
        server.stop()
