"""A fall in an edge stream: recorded once (however often the frames are replayed), shown by /alerts and the
analysis, and POSTed once to the configured webhook."""

from __future__ import annotations

import json
import time

import numpy as np

FPS = 10


def fall_frames() -> list[dict]:
    """2 s upright, a 0.5 s fall (hips down 180 px, trunk to horizontal, box from tall to wide), 2.5 s lying still."""
    records = []
    for frame in range(50):
        k = min(max((frame - 20) / 5, 0.0), 1.0)  # 0 upright .. 1 lying
        hip = np.array([300.0, 200.0 + 180.0 * k])
        trunk = np.radians(90.0 * k)
        shoulder = hip + 100.0 * np.array([np.sin(trunk), -np.cos(trunk)])
        xy = np.tile(shoulder, (17, 1))
        for side, dx in ((0, -20.0), (1, 20.0)):  # left and right joints either side of the midline
            offset = np.array([dx, 0.0])
            xy[5 + side] = shoulder + offset
            xy[11 + side] = hip + offset
            xy[13 + side] = hip + offset + np.array([0.0, 100.0])
            xy[15 + side] = hip + offset + np.array([0.0, 200.0])
        width, height = 120 + 220 * k, 340 - 220 * k
        box = [300.0 - width / 2, 400.0 - height, width, height]
        person = {"image_id": f"{frame}.jpg", "category_id": 1, "score": 1.0, "box": box, "idx": 1,
                  "keypoints": np.concatenate([xy, np.ones((17, 1))], axis=1).ravel().round(2).tolist()}  # fmt: skip
        records.append({"frame": frame, "image_id": f"{frame}.jpg", "people": [person]})
    return records


def body(records: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def test_a_fall_is_recorded_once_and_sent_to_the_webhook(server, webhook) -> None:
    frames = fall_frames()
    with server.client("alice") as alice, server.client("bob") as bob:
        form = {"subject": (None, "fall <watch>"), "fps": (None, str(FPS))}
        session = alice.post("/api/sessions", files=form).json()
        url = f"/api/sessions/{session['id']}/frames"
        for start in range(0, 50, 10):  # a live stream: one push per second of frames
            assert alice.post(url, content=body(frames[start : start + 10])).status_code == 200
        deadline = time.monotonic() + 20
        while not [e for e in webhook.received if e["session_id"] == session["id"]] and time.monotonic() < deadline:
            time.sleep(0.2)
        alerts = alice.get(f"/api/sessions/{session['id']}/alerts").json()
        falls = alice.get(f"/api/sessions/{session['id']}/analysis").json()["falls"]
        assert alice.post(url, content=body(frames)).json()["stored"] == 0  # a replay: nothing new
        time.sleep(2)
        assert bob.get(f"/api/sessions/{session['id']}/alerts").status_code == 404
    sent = [e for e in webhook.received if e["session_id"] == session["id"]]
    assert len(sent) == 1 and len(alerts) == 1 and len(falls) == 1
    assert sent[0]["event"] == "fall" and sent[0]["subject"] == "fall <watch>" and sent[0]["track_id"] == 1
    assert 20 < sent[0]["frame"] <= 25 and alerts[0]["frame"] == sent[0]["frame"] == falls[0]["frame"]
