"""Uploads become jobs that a worker process runs: inference with tracking, then the analyses; status, progress
as Server-Sent Events, results and analysis checked against the detection file and angles computed by hand."""

from __future__ import annotations

import json

import httpx
import numpy as np

from tests.serve.conftest import BOXES, upload, wait_job

LEFT_HIP, LEFT_KNEE, LEFT_ANKLE = 11, 13, 15  # COCO-17


def sse_events(text: str) -> list[tuple[str, dict]]:
    """(event, data) of each event in a text/event-stream body, parsed independently of the server."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def test_upload_runs_inference_and_analyses(server) -> None:
    with server.client("alice") as alice:
        created = upload(alice, "patient 1", exercise="squat")
        assert created.status_code == 201, created.text
        session = created.json()
        assert session["job"]["status"] == "queued" and session["video_bytes"] > 0
        with alice.stream("GET", f"/api/jobs/{session['job']['id']}/events", timeout=240) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            events = sse_events(stream.read().decode())
        job = alice.get(f"/api/jobs/{session['job']['id']}").json()
        results = alice.get(f"/api/sessions/{session['id']}/results")
        analysis = alice.get(f"/api/sessions/{session['id']}/analysis").json()
    assert job["status"] == "done", job
    assert (job["progress"], job["frames_done"], job["frames_total"]) == (1.0, 5, 5)
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"progress"}
    progress = [data["progress"] for _, data in events]
    assert progress == sorted(progress) and progress[-1] == 1.0
    records = results.json()
    assert results.status_code == 200 and len(records) == 10  # 2 boxes x 5 frames, every one kept
    assert sorted({r["image_id"] for r in records}) == [f"{n}.jpg" for n in range(5)]
    for record in records:  # each person's box is one of the detection file's
        assert any(np.allclose(record["box"], box, atol=0.5) for box in BOXES), record["box"]
    assert analysis["fps"] == 5.0 and analysis["reps"]["exercise"] == "squat"
    assert isinstance(analysis["falls"], list)
    # the left knee angle of one track and frame, from the returned keypoints (arccos of the normalised dot)
    track = analysis["angles"][0]
    mine = [r for r in records if r["idx"] == track["track_id"]]
    first = next(r for r in mine if r["image_id"] == f"{track['frames'][0]}.jpg")
    xy = np.array(first["keypoints"]).reshape(-1, 3)[:, :2]
    u, v = xy[LEFT_HIP] - xy[LEFT_KNEE], xy[LEFT_ANKLE] - xy[LEFT_KNEE]
    expected = np.degrees(np.arccos(u @ v / np.linalg.norm(u) / np.linalg.norm(v)))
    assert abs(track["angles"]["left_knee"][0] - expected) < 1e-2


def test_not_a_video_fails_with_one_line(server, tmp_path) -> None:
    fake = tmp_path / "clip.mp4"
    fake.write_bytes(b"this is text, not a video\n" * 100)
    with server.client("alice") as alice:
        session = upload(alice, "patient 2", path=fake).json()
        job = wait_job(alice, session["job"]["id"])
        results = alice.get(f"/api/sessions/{session['id']}/results")
    assert job["status"] == "failed"
    assert job["error"] == "the upload is not a video OpenCV can decode (no frame could be read)"
    assert results.status_code == 409


def test_job_events_need_a_token_and_a_visible_job(server) -> None:
    with server.client("alice") as alice:
        job_id = upload(alice, "patient 3", path=server.data_dir / "akit.db").json()["job"]["id"]
        wait_job(alice, job_id)
    assert httpx.get(f"{server.url}/api/jobs/{job_id}/events").status_code == 401
    with server.client("bob") as bob:
        assert bob.get(f"/api/jobs/{job_id}/events").status_code == 404
        assert bob.get(f"/api/jobs/{job_id}").status_code == 404
