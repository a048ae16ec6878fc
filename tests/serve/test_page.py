"""The page in a real browser (Debian's headless Chromium driven by Playwright): sign in, upload the shared video,
wait for the job, see the skeletons drawn where the results put them and redrawn when the frame changes, with the
angle cursor following; names with HTML stay text. One screenshot per step, kept under $AKIT_ARTEFACTS (or the
test's temporary folder)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.serve.conftest import PASSWORD, VIDEO

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
