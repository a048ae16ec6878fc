"""Edge push: frame records into an edge session, stored once however often they are replayed; the client
(alphapose_kit.io.push) buffers on disk while the server is unreachable and replays in order when it is back."""

from __future__ import annotations

import json

import pytest

from alphapose_kit.errors import AkitError
from alphapose_kit.io.push import FramePusher
from tests.serve.conftest import PASSWORD, Server, run_cli


def record(frame: int) -> dict:
    person = {"image_id": f"{frame}.jpg", "category_id": 1, "keypoints": [float(frame)] * 51, "score": 1.0,
              "box": [0.0, 0.0, 10.0, 10.0], "idx": 1}  # fmt: skip
    return {"frame": frame, "image_id": f"{frame}.jpg", "people": [person]}


def lines(*frames: int) -> bytes:
    return "".join(json.dumps(record(f)) + "\n" for f in frames).encode()


def test_the_same_frames_pushed_twice_are_stored_once(server) -> None:
    with server.client("alice") as alice:
        session = alice.post("/api/sessions", files={"subject": (None, "edge 1")}).json()
        assert session["kind"] == "edge" and session["job"] is None
        url = f"/api/sessions/{session['id']}/frames"
        first = alice.post(url, content=lines(0, 1, 2))
        again = alice.post(url, content=lines(1, 2, 3, 3))
        stored = alice.get(url).json()
        results = alice.get(f"/api/sessions/{session['id']}/results").json()
        bad = [alice.post(url, content=body).status_code for body in (b"{", b'{"frame": -1, "people": []}\n',
               b'{"frame": 1}\n', b'{"frame": true, "people": []}\n', b"[1]\n")]  # fmt: skip
        upload_session = alice.post("/api/sessions", files={"subject": (None, "u"), "video": ("v.mp4", b"x")}).json()
        into_upload = alice.post(f"/api/sessions/{upload_session['id']}/frames", content=lines(0))
    assert first.json() == {"received": 3, "stored": 3, "duplicates": 0}
    assert again.json() == {"received": 4, "stored": 1, "duplicates": 3}
    assert [r["frame"] for r in stored] == [0, 1, 2, 3] and stored[2] == record(2)
    assert [p["image_id"] for p in results] == ["0.jpg", "1.jpg", "2.jpg", "3.jpg"]
    assert bad == [422] * 5 and into_upload.status_code == 409


def test_outage_is_buffered_on_disk_and_replayed_in_order(tmp_path, job_options) -> None:
    """Frames pushed while the server is down stay in the buffer file; once it is back they all arrive, in order."""
    edge = Server(tmp_path / "data", job_options, "--workers", "0")
    assert run_cli("--create-user", "alice", password=PASSWORD["alice"], data_dir=edge.data_dir).returncode == 0
    token = edge.start().token("alice")
    edge.stop()
    buffer = tmp_path / "buffer" / "frames.jsonl"
    pusher = FramePusher(edge.url, token, buffer, subject="edge 2", timeout_s=2, retry_s=0.2)
    assert pusher.push(record(0)) is False and pusher.push(record(1)) is False
    assert [json.loads(line)["frame"] for line in buffer.read_text().splitlines()] == [0, 1]
    edge.start()
    try:
        assert pusher.close(wait_s=30) == 0
        assert buffer.read_text() == ""
        for frame in (2, 3, 4):
            assert pusher.push(record(frame)) is True
        assert pusher.session_id is not None
        with edge.client("alice") as alice:
            stored = alice.get(f"/api/sessions/{pusher.session_id}/frames").json()
            session = alice.get(f"/api/sessions/{pusher.session_id}").json()
        assert [r["frame"] for r in stored] == [0, 1, 2, 3, 4] and stored[1] == record(1)
        assert session["subject"]["name"] == "edge 2" and session["kind"] == "edge"
        # a crash after sending but before the buffer shrank: the replay is de-duplicated by the server
        buffer.write_text("".join(json.dumps(record(f)) + "\n" for f in (3, 4, 5)))
        assert pusher.flush() is True
        with edge.client("alice") as alice:
            assert [r["frame"] for r in alice.get(f"/api/sessions/{pusher.session_id}/frames").json()] == list(range(6))
    finally:
        edge.stop()


def test_a_refused_push_is_one_line(server, tmp_path) -> None:
    with pytest.raises(AkitError, match=r"^the server refused the push to .*: HTTP 401 the token is invalid"):
        FramePusher(server.url, "wrong", tmp_path / "b.jsonl", session_id=1).push(record(0))
    with server.client("bob") as bob:
        theirs = bob.post("/api/sessions", files={"subject": (None, "bob edge")}).json()
    pusher = FramePusher(server.url, server.token("alice"), tmp_path / "c.jsonl", session_id=theirs["id"])
    with pytest.raises(AkitError, match=r"HTTP 404 no session"):
        pusher.push(record(0))
    assert len(pusher.pending()) == 1  # kept: nothing unacknowledged is dropped
    with pytest.raises(AkitError, match="--push takes the server's http"):
        FramePusher("ftp://x", "t", tmp_path / "d.jsonl")


def test_akit_infer_push_streams_every_frame_to_the_server(server, job_options, tmp_path, shared_data) -> None:
    """``akit infer VIDEO --track --push URL --token T``: every frame the run writes reaches a new edge session, the
    server's results equal the run's own JSON, and the disk buffer is left empty."""
    from alphapose_kit.engine.infer import PUSH_BUFFER_NAME, run_inference
    from alphapose_kit.engine.options import InferOptions

    video = next((shared_data / "video").glob("*.mp4"))
    out = tmp_path / "edge-run"
    token = server.token("alice")
    options = InferOptions(source=str(video), outdir=str(out), track=True, push=server.url, token=token, quiet=True,
                           pose_nms="none", **job_options)  # fmt: skip
    summary = run_inference(options)
    written = json.loads((out / "alphapose-results.json").read_text())
    with server.client("alice") as alice:
        sessions = [s for s in alice.get("/api/sessions").json() if s["kind"] == "edge"]
        results = alice.get(f"/api/sessions/{max(s['id'] for s in sessions)}/results").json()
    assert summary.frames > 0 and len(written) > 0
    assert [(r["image_id"], r["keypoints"]) for r in results] == [(r["image_id"], r["keypoints"]) for r in written]
    assert (out / PUSH_BUFFER_NAME).read_text() == ""
    with pytest.raises(AkitError, match="--token and --session go with --push"):
        InferOptions(source=str(video), token=token).validate()
