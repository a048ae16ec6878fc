"""``akit analyze`` end to end on results files written like akit infer writes them, and the HTML report."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest

from alphapose_kit.analysis.series import load_recording
from alphapose_kit.cli.app import main
from alphapose_kit.io.run_info import write_run_info
from tests.analysis.test_angles_reps import _squats
from tests.analysis.test_falls_compare import LYING, _scene, _track


def write_results(folder, tracks, fps: float | None = 30.0, tracked: bool = True):
    """alphapose-results.json (frame order, AlphaPose's record layout) and run.json for ``tracks``."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    frames = sorted({int(f) for t in tracks for f in t.frames})
    for f in frames:
        for t in tracks:
            i = np.searchsorted(t.frames, f)
            if i < len(t) and t.frames[i] == f:
                kps = np.concatenate([t.keypoints[i], t.scores[i][:, None]], axis=1).reshape(-1)
                x1, y1, x2, y2 = t.boxes[i]
                idx = t.track_id if tracked else [0.0]
                records.append({"image_id": f"{f}.jpg", "category_id": 1, "keypoints": kps.tolist(), "score": 2.5,
                                "box": [x1, y1, x2 - x1, y2 - y1], "idx": idx})  # fmt: skip
    (folder / "alphapose-results.json").write_text(json.dumps(records))
    model = {"config": "coco/fastpose_res50_256x192", "checkpoint": "fastpose", "keypoint_set": "coco17"}
    write_run_info(folder, source="clip.mp4", fps=fps, frames=len(frames), size=(640, 480), model=model, options={})
    return folder / "alphapose-results.json"


@pytest.fixture(scope="module")
def squat_run(tmp_path_factory):
    """Person 1 squats 7 times; person 2, standing beside, falls at 1.5-2.0 s and lies still."""
    squatter, _ = _squats([90, 85, 100, 95, 110, 88, 92])
    faller = _track(_scene(LYING, 0.5))
    faller.track_id = 2
    faller.keypoints[..., 0] += 250
    faller.boxes[:, [0, 2]] += 250
    return write_results(tmp_path_factory.mktemp("run") / "infer", [squatter, faller])


def test_angles_reps_falls_commands(squat_run, tmp_path):
    out = tmp_path / "a"
    assert main(["analyze", "angles", str(squat_run), "-o", str(out), "--person", "1"]) == 0
    lines = (out / "angles.csv").read_text().splitlines()
    assert lines[0].split(",")[3:5] == ["left_knee", "right_knee"] and len(lines) == 1 + 540
    assert float(lines[1].split(",")[3]) == pytest.approx(170, abs=3) and (out / "angles.png").stat().st_size > 1000

    assert main(["analyze", "reps", str(squat_run.parent), "-o", str(tmp_path / "r")]) == 0
    reps = json.loads((tmp_path / "r" / "reps.json").read_text())
    assert reps["count"] == 7 and reps["per_track"] == {"1": 7, "2": 0} and len(reps["reps"]) == 7
    assert reps["fps"] == 30.0 and abs(reps["reps"][0]["bottom_frame"] - 45) <= 3  # 0.5 s standing + 1 s down
    assert (tmp_path / "r" / "reps.png").is_file()

    assert main(["analyze", "falls", str(squat_run), "-o", str(tmp_path / "f")]) == 0
    (event,) = json.loads((tmp_path / "f" / "falls.json").read_text())
    assert event["track_id"] == 2 and 1.5 <= event["time_s"] <= 2.04

    # --fps overrides run.json's time base: the same frames at 60 fps happen twice as early
    assert main(["analyze", "falls", str(squat_run), "-o", str(tmp_path / "f60"), "--fps", "60"]) == 0
    (event60,) = json.loads((tmp_path / "f60" / "falls.json").read_text())
    assert event60["frame"] == event["frame"] and event60["time_s"] == pytest.approx(event["frame"] / 60)


def test_untracked_results_are_refused_over_time_and_measured_per_person(tmp_path, capsys):
    """Four images, three people each, written as akit infer writes them without --track (idx 0 from a detection
    file): no analysis over time may join them into one person; angles are measured per person."""
    squatter, _ = _squats([90])
    records = []
    for frame in range(4):
        for person in range(3):
            kps = np.concatenate([squatter.keypoints[frame] + 200 * person, squatter.scores[frame][:, None]], axis=1)
            x1, y1, x2, y2 = squatter.boxes[frame] + 200 * person
            records.append({"image_id": f"{frame:012d}.jpg", "category_id": 1, "keypoints": kps.ravel().tolist(),
                            "score": 2.5, "box": [x1, y1, x2 - x1, y2 - y1], "idx": 0})  # fmt: skip
    run = tmp_path / "images"
    run.mkdir()
    (run / "alphapose-results.json").write_text(json.dumps(records))
    for command in (["reps"], ["falls"], ["compare", str(run)], ["report"]):
        code = main(["analyze", *command, str(run), "--fps", "30", "-o", str(tmp_path / command[0])])
        err = capsys.readouterr().err
        assert code == 1 and err.count("\n") == 1 and "has no track ids" in err and "akit infer --track" in err, err
        assert not (tmp_path / command[0]).exists()  # a refused command leaves no folder
    assert main(["analyze", "angles", str(run), "-o", str(tmp_path / "angles")]) == 0
    rows = [line.split(",") for line in (tmp_path / "angles" / "angles.csv").read_text().splitlines()[1:]]
    assert len(rows) == 12 and len({r[0] for r in rows}) == 12  # one row per person, each its own id
    write_results(tmp_path / "untracked", [squatter], tracked=False)  # idx as AlphaPose writes it: a list
    assert main(["analyze", "reps", str(tmp_path / "untracked"), "-o", str(tmp_path / "r")]) == 1
    assert "has no track ids" in capsys.readouterr().err


def test_nothing_to_show_says_why(tmp_path, capsys):
    squatter, _ = _squats([90])
    squatter.scores[:] = 0.2
    run = write_results(tmp_path / "weak", [squatter])
    joints = squatter.scores.size
    assert main(["analyze", "angles", str(run), "--min-score", "0.3", "-o", str(tmp_path / "a")]) == 0
    assert f"all {joints:,} joints below --min-score 0.3" in capsys.readouterr().err
    assert main(["analyze", "report", str(run), "--min-score", "0.3", "-o", str(tmp_path / "r")]) == 0
    assert f"all {joints:,} joints below --min-score 0.3" in capsys.readouterr().err
    assert (
        f"Nothing to analyse: all {joints:,} joints below --min-score 0.3"
        in (tmp_path / "r" / "report.html").read_text()
    )
    empty = write_results(tmp_path / "empty", [])
    assert main(["analyze", "report", str(empty), "-o", str(tmp_path / "e")]) == 0
    assert "holds no people (an empty results list)" in capsys.readouterr().err
    assert "holds no people" in (tmp_path / "e" / "report.html").read_text()


def test_outdir_rule_exist_ok_replaces_only_the_command_s_outputs(squat_run, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert main(["analyze", "angles", str(squat_run), "-o", str(out)]) == 0
    assert main(["analyze", "falls", str(squat_run), "-o", str(out)]) == 0  # another analysis beside it is fine
    (out / "notes.txt").write_text("mine")
    before = (out / "angles.csv").read_text()
    capsys.readouterr()
    assert main(["analyze", "angles", str(squat_run), "-o", str(out), "--person", "2"]) == 1
    err = capsys.readouterr().err
    assert "already holds the outputs of an earlier akit analyze (angles.csv)" in err and "--exist-ok" in err
    assert (out / "angles.csv").read_text() == before
    assert main(["analyze", "angles", str(squat_run), "-o", str(out), "--person", "2", "--exist-ok"]) == 0
    assert {line.split(",")[0] for line in (out / "angles.csv").read_text().splitlines()[1:]} == {"2"}
    assert sorted(p.name for p in out.iterdir()) == ["angles.csv", "angles.png", "falls.json", "notes.txt"]
    monkeypatch.chdir(tmp_path)  # a command that fails leaves no empty runs/analyze/expN
    assert main(["analyze", "angles", str(squat_run), "--person", "9"]) == 1
    assert not (tmp_path / "runs").exists()
    assert main(["analyze", "angles", str(squat_run)]) == 0
    assert (tmp_path / "runs" / "analyze" / "exp" / "angles.csv").is_file()


def test_a_custom_keypoint_set_travels_in_run_json(tmp_path, capsys):
    """mpii16 is registered nowhere on the reading side: its definition in run.json is what names the joints."""
    from alphapose_kit.data.keypoints import KeypointSet

    names = ("r_ankle", "r_knee", "r_hip", "l_hip", "l_knee", "l_ankle", "pelvis", "thorax", "upper_neck",
             "head_top", "r_wrist", "r_elbow", "r_shoulder", "l_shoulder", "l_elbow", "l_wrist")  # fmt: skip
    mpii = KeypointSet("mpii16", names, ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13)), ((0, 1), (1, 2)), ())
    run = tmp_path / "mpii"
    run.mkdir()
    knee = [100.0, 200.0, 0.9]  # r_hip (0, 100) - r_knee (100, 200) - r_ankle (100, 300): 135 degrees at the knee
    kps = [100.0, 300.0, 0.9, *knee, 0.0, 100.0, 0.9] + [0.0, 0.0, 0.9] * 13
    record = {"image_id": "0.jpg", "category_id": 1, "keypoints": kps, "score": 1.0, "box": [0, 0, 10, 10], "idx": 1}
    (run / "alphapose-results.json").write_text(json.dumps([record]))
    write_run_info(run, source="mpii.mp4", fps=25, frames=1, size=(640, 480), model={"keypoint_set": mpii})
    assert json.loads((run / "run.json").read_text())["model"]["keypoint_set"]["names"] == list(names)
    code = main(["analyze", "angles", str(run), "--angle", "rknee=r_hip,r_knee,r_ankle", "-o", str(tmp_path / "a")])
    assert code == 0, capsys.readouterr().err
    (row,) = (tmp_path / "a" / "angles.csv").read_text().splitlines()[1:]
    assert float(row.split(",")[3]) == pytest.approx(135.0, abs=0.01)


def test_model_flags_apply_to_a_video_only(squat_run, tmp_path, capsys):
    assert main(["analyze", "angles", str(squat_run), "-w", "pose.pth", "-o", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--checkpoint is a model flag: it applies to a video input only" in err


def test_compare_command(squat_run, tmp_path):
    assert main(["analyze", "compare", str(squat_run), str(squat_run), "--person", "1", "-o", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "compare.json").read_text())
    assert result["similarity"] == pytest.approx(1.0) and result["track_b"] == 1
    assert result["path"][:3] == [[0, 0], [1, 1], [2, 2]] and "left_knee" in result["per_joint_deviation"]
    assert (tmp_path / "compare.png").is_file()


def test_user_errors_are_one_line(squat_run, tmp_path, capsys):
    assert main(["analyze", "reps", str(tmp_path / "nothing.json")]) == 1
    assert "results file not found" in capsys.readouterr().err
    assert main(["analyze", "angles", str(squat_run), "--person", "9", "-o", str(tmp_path / "x")]) == 1
    assert "no person 9" in capsys.readouterr().err
    no_fps = write_results(tmp_path / "images", [_squats([90])[0]], fps=None)
    assert main(["analyze", "reps", str(no_fps), "-o", str(tmp_path / "y")]) == 1
    assert "pass --fps" in capsys.readouterr().err
    assert main(["analyze", "reps", str(squat_run), "--exercise", "custom", "-o", str(tmp_path / "z")]) == 1
    assert "custom needs" in capsys.readouterr().err
    assert main(["analyze", "report", str(squat_run), "--exercise", "foo", "-o", str(tmp_path / "w")]) == 1
    assert "unknown exercise 'foo'" in capsys.readouterr().err and not (tmp_path / "w").exists()
    assert main(["analyze", "angles", str(squat_run), "--min-score", "-1", "-o", str(tmp_path / "v")]) == 1
    assert "--min-score" in capsys.readouterr().err
    detections = tmp_path / "dets.json"  # a COCO detection file: records without keypoints
    detections.write_text('[{"image_id": 1, "bbox": [0, 0, 5, 5], "score": 0.9}]')
    assert main(["analyze", "angles", str(detections), "-o", str(tmp_path / "u")]) == 1
    err = capsys.readouterr().err
    assert "entry 0 is not an AlphaPose result (it has no keypoints, box)" in err and "KeyError" not in err


def test_report_is_self_contained(squat_run, tmp_path):
    out = tmp_path / "report"
    assert main(["analyze", "report", str(squat_run), "--reference", str(squat_run), "-o", str(out)]) == 0
    page = (out / "report.html").read_text()
    for anchor in ("summary", "angles", "reps", "comparison", "falls", "key-frames"):
        assert f'<section id="{anchor}">' in page
    assert "7 repetitions" in page and "1 fall(s) detected" in page and "Similarity <b>1.000</b>" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page  # nothing to fetch or run
    assert page.count("data:image/jpeg;base64,") >= 3 and page.count("data:image/png;base64,") >= 3


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

_PROBE = """<!DOCTYPE html><html><body><iframe id="r" src="report.html" width="1200" height="900"></iframe>
<script>
document.getElementById("r").onload = () => {
  const doc = document.getElementById("r").contentDocument;
  const imgs = [...doc.images];
  const out = document.createElement("pre");
  out.id = "probe";
  out.textContent = JSON.stringify({
    sections: [...doc.querySelectorAll("section h2")].map(h => h.textContent),
    images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    height: doc.body.scrollHeight,
  });
  document.body.appendChild(out);
};
</script></body></html>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install -y chromium)")
def test_report_renders_in_headless_chromium(squat_run, tmp_path):
    """The page opens offline in a real browser, shows its six sections, and every embedded image decodes."""
    out = tmp_path / "report"
    assert main(["analyze", "report", str(squat_run), "--reference", str(squat_run), "-o", str(out)]) == 0
    (out / "probe.html").write_text(_PROBE)
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
           "--virtual-time-budget=10000", "--dump-dom", (out / "probe.html").as_uri()]  # fmt: skip
    dom = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
    start = dom.index('<pre id="probe">') + len('<pre id="probe">')
    probe = json.loads(dom[start : dom.index("</pre>", start)].replace("&quot;", '"'))
    assert probe["sections"] == [
        "Summary",
        "Joint scores per part",
        "Angles",
        "Repetitions",
        "Comparison",
        "Falls",
        "Key frames",
    ]
    assert probe["images"] >= 6 and probe["decoded"] == probe["images"] and probe["height"] > 2000


def test_key_frames_come_from_the_source_video(tmp_path):
    """run.json's source is read back: key frame 12 shows frame 12's pixels (grey level 10 * 12) under the skeleton."""
    import cv2

    from alphapose_kit.analysis.report import key_frame_jpeg

    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (320, 240))
    for f in range(20):
        writer.write(np.full((240, 320, 3), 10 * f, np.uint8))
    writer.release()
    squatter, _ = _squats([90])
    squatter.keypoints *= 0.3  # keep the skeleton in the top-left corner
    squatter.boxes *= 0.3
    results = write_results(tmp_path / "run", [squatter])
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    info["source"] = str(video)
    (tmp_path / "run" / "run.json").write_text(json.dumps(info))
    image = cv2.imdecode(np.frombuffer(key_frame_jpeg(load_recording(results), 12, 0.4), np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (240, 320, 3)
    assert abs(float(np.median(image[200:, 250:])) - 120) < 6  # a corner far from the drawing
