"""The page in a real browser (Debian's headless Chromium driven by Playwright): sign in, upload the shared video,
wait for the job, see the skeletons drawn where the results put them and redrawn when the frame changes, with the
angle cursor following; names with HTML stay text. One screenshot per step, kept under $AKIT_ARTEFACTS (or the
test's temporary folder)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from tests.serve.conftest import PASSWORD, VIDEO
from tests.serve.test_alerts import body, fall_frames

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")

PIXEL = "([x, y]) => document.getElementById('overlay').getContext('2d').getImageData(x, y, 1, 1).data[3]"
CANVAS = "(id) => document.getElementById(id).toDataURL()"
VIDEO_PIXELS = """() => { const v = document.getElementById('video'), c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight; c.getContext('2d').drawImage(v, 0, 0); return c.toDataURL(); }"""


def test_sign_in_upload_and_review_in_chromium(server, tmp_path) -> None:
    shots = Path(os.environ.get("AKIT_ARTEFACTS", tmp_path)) / "serve-page"
    shots.mkdir(parents=True, exist_ok=True)
    name = "<b>browser</b> patient"
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        page.goto(server.url)
        page.wait_for_selector("#login-form", state="visible")
        page.screenshot(path=shots / "1-sign-in.png")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", "wrong")
        page.click("#login-form button")
        page.wait_for_function("document.getElementById('login-error').textContent !== ''")
        page.fill("input[name=password]", PASSWORD["alice"])
        page.click("#login-form button")
        page.wait_for_selector("#upload-form", state="visible")
        assert page.text_content("#who") == "alice (clinician)"
        page.fill("#upload-form input[name=subject]", name)
        page.select_option("#upload-form select[name=exercise]", "squat")
        page.set_input_files("#upload-form input[name=video]", str(VIDEO))
        page.screenshot(path=shots / "2-upload.png")
        page.click("#upload-form button")
        page.wait_for_selector("#session-view", state="visible")
        page.wait_for_selector("body[data-ready=true]", timeout=240_000)
        page.wait_for_function("document.getElementById('video').readyState >= 2")
        page.screenshot(path=shots / "3-session.png")
        assert page.text_content("#job-status") == "done"
        title = page.text_content("#session-title")
        assert title is not None and title.startswith(name) and page.query_selector("#session-title b") is None
        session_id = int(page.evaluate("location.hash").rsplit("/", 1)[1])
        with server.client("alice") as alice:
            records = alice.get(f"/api/sessions/{session_id}/results").json()
            reps = alice.get(f"/api/sessions/{session_id}/analysis").json()["reps"]["reps"]
        assert page.evaluate("document.querySelectorAll('#reps tbody tr').length") == len(reps)
        first = next(r for r in records if r["image_id"] == "0.jpg")
        x, y = round(first["keypoints"][0]), round(first["keypoints"][1])  # the nose of a person on frame 0
        assert page.text_content("#frame") == "0"
        assert page.evaluate(PIXEL, [x, y]) > 0, "no skeleton drawn at a keypoint of frame 0"
        before = [page.evaluate(CANVAS, "overlay"), page.evaluate(CANVAS, "curves"), page.evaluate(VIDEO_PIXELS)]
        page.click("#next-frame")
        page.wait_for_function("document.getElementById('frame').value === '1'")
        page.wait_for_timeout(300)
        page.screenshot(path=shots / "4-next-frame.png")
        after = [page.evaluate(CANVAS, "overlay"), page.evaluate(CANVAS, "curves"), page.evaluate(VIDEO_PIXELS)]
        moved = {tuple(r["keypoints"]) for r in records if r["image_id"] == "1.jpg"} != {
            tuple(r["keypoints"]) for r in records if r["image_id"] == "0.jpg"
        }
        assert moved and after[0] != before[0], "the overlay did not follow the frame"
        assert after[1] != before[1], "the angle cursor did not move"
        assert after[2] != before[2], "the video did not step"
        page.click("#prev-frame")
        page.wait_for_function("document.getElementById('frame').value === '0'")
        page.wait_for_timeout(300)
        assert page.evaluate(CANVAS, "overlay") == before[0]
        browser.close()
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-sign-in.png",
        "2-upload.png",
        "3-session.png",
        "4-next-frame.png",
    ]


def squat_frames(count: int, period: int) -> list[dict]:
    """An upright person whose knees bend from 170 to 80 degrees and back every ``period`` frames (COCO-17 joints:
    shoulders, hips, knees, ankles placed by hand, every score 1)."""
    records = []
    for frame in range(count):
        knee = 125 + 45 * np.cos(2 * np.pi * frame / period)  # degrees at the knee: 170 -> 80 -> 170
        xy = np.tile([300.0, 100.0], (17, 1))
        for side, dx in ((0, -20.0), (1, 20.0)):
            xy[5 + side] = [300 + dx, 100]  # shoulders
            xy[11 + side] = [300 + dx, 200]  # hips
            xy[13 + side] = [300 + dx, 300]  # knees
            angle = np.radians(knee)  # the shank from the knee at `angle` to the thigh (which points up)
            xy[15 + side] = [300 + dx + 100 * np.sin(angle), 300 - 100 * np.cos(angle)]
        keypoints = np.concatenate([xy, np.ones((17, 1))], axis=1).ravel().round(2).tolist()
        person = {"image_id": f"{frame}.jpg", "category_id": 1, "keypoints": keypoints, "score": 1.0,
                  "box": [250.0, 60.0, 120.0, 340.0], "idx": 1}  # fmt: skip
        records.append({"frame": frame, "image_id": f"{frame}.jpg", "people": [person]})
    return records


def test_edge_stream_live_with_reps_to_click(server, tmp_path) -> None:
    shots = Path(os.environ.get("AKIT_ARTEFACTS", tmp_path)) / "serve-page-edge"
    shots.mkdir(parents=True, exist_ok=True)
    frames = squat_frames(60, 20)  # 10 frames/s: three squats of 2 s
    lines = "".join(json.dumps(r) + "\n" for r in frames[:40]).encode()
    with server.client("alice") as alice:
        form = {"subject": (None, "edge squats"), "exercise": (None, "squat"), "fps": (None, "10")}
        session = alice.post("/api/sessions", files=form).json()
        assert alice.post(f"/api/sessions/{session['id']}/frames", content=lines).status_code == 200
        reps = alice.get(f"/api/sessions/{session['id']}/analysis").json()["reps"]["reps"]
    assert len(reps) == 2  # two whole squats in the first 40 frames
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(server.url)
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", PASSWORD["alice"])
        page.click("#login-form button")
        page.wait_for_selector("#upload-form", state="visible")
        page.goto(f"{server.url}/#/session/{session['id']}")
        page.wait_for_function("document.querySelectorAll('#reps tbody tr').length === 2")
        page.screenshot(path=shots / "1-edge-session.png")
        assert page.text_content("#live-frames") == "40"
        page.click("#reps tbody tr:nth-child(2)")
        page.wait_for_function(f"document.getElementById('frame').value === '{reps[1]['start_frame']}'")
        x, y = (round(v) for v in frames[reps[1]["start_frame"]]["people"][0]["keypoints"][39:41])  # left ankle
        assert page.evaluate(PIXEL, [x, y]) > 0, "no skeleton at the rep's first frame's ankle"
        page.screenshot(path=shots / "2-rep-clicked.png")
        more = "".join(json.dumps(r) + "\n" for r in frames[40:]).encode()
        with server.client("alice") as alice:
            assert alice.post(f"/api/sessions/{session['id']}/frames", content=more).json()["stored"] == 20
        page.wait_for_function("document.getElementById('live-frames').value === '60'", timeout=30_000)
        page.wait_for_function("document.querySelectorAll('#reps tbody tr').length === 3", timeout=30_000)
        page.screenshot(path=shots / "3-live-update.png")
        assert page.is_hidden("#alert")
        with server.client("alice") as alice:
            form = {"subject": (None, "edge fall"), "fps": (None, "10")}
            fall_session = alice.post("/api/sessions", files=form).json()
            pushed = alice.post(f"/api/sessions/{fall_session['id']}/frames", content=body(fall_frames()))
            assert pushed.status_code == 200
            fall = alice.get(f"/api/sessions/{fall_session['id']}/alerts").json()[0]
        page.goto(f"{server.url}/#/session/{fall_session['id']}")
        page.wait_for_selector("#alert", state="visible", timeout=30_000)
        assert page.text_content("#alert") == f"Fall detected: track 1 at frame {fall['frame']}"
        page.screenshot(path=shots / "4-fall-alert.png")
        browser.close()
