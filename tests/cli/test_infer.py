"""``akit infer`` end to end with random weights: every source kind, every writer, the JSON schema, errors.

The pose checkpoint is a random FastPose-R50 whose output bias is raised to 1, so every joint scores about 1 and
every detected person survives pose NMS (a plain random net scores < 0.3 and P-NMS drops everyone). Crops are
128x96 (``--opts``) to keep CPU time low; the network and its state_dict are the 256x192 model's.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.cli.app import main
from alphapose_kit.config import load_config
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.io.results import alphapose_records
from alphapose_kit.models import build_pose_model

SMALL = ["--opts", "DATA_PRESET.IMAGE_SIZE", "[128,96]", "DATA_PRESET.HEATMAP_SIZE", "[32,24]"]
COCO_CFG = "coco/fastpose_res50_256x192"


def confident_checkpoint(path: Path, config: str) -> Path:
    torch.manual_seed(0)
    model = build_pose_model(load_config(config))
    with torch.no_grad():
        model.conv_out.bias.fill_(1.0)
    torch.save(model.state_dict(), path)
    return path


@pytest.fixture(scope="module")
def pose_ckpt(tmp_path_factory) -> Path:
    return confident_checkpoint(tmp_path_factory.mktemp("ckpt") / "fastpose.pth", COCO_CFG)


@pytest.fixture(scope="module")
def coco_detfile(tmp_path_factory, shared_data) -> Path:
    """The shared COCO detections with score >= 0.5 (18 boxes: 1, 5, 6, 6 per image)."""
    records = json.loads((shared_data / "coco" / "person_detections.json").read_text())
    kept = [r for r in records if r["score"] >= 0.5]
    path = tmp_path_factory.mktemp("det") / "dets.json"
    path.write_text(json.dumps(kept))
    return path


@pytest.fixture(scope="module")
def video_detfile(tmp_path_factory) -> Path:
    """Two boxes on every frame of people_walking.mp4, keyed the way AlphaPose names video frames."""
    records = []
    for frame in range(5):
        records.append({"image_id": f"{frame}.jpg", "bbox": [100.0, 150.0, 80.0, 200.0], "score": 0.9})
        records.append({"image_id": f"{frame}.jpg", "bbox": [500.0, 120.0, 90.0, 240.0], "score": 0.8})
    path = tmp_path_factory.mktemp("vdet") / "video_dets.json"
    path.write_text(json.dumps(records))
    return path


def infer(capsys, *args: str) -> tuple[int, str]:
    code = main(["infer", *args])
    return code, capsys.readouterr().err


def read_json(path: Path):
    return json.loads(path.read_text())


def test_images_directory_alphapose_schema(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(shared_data / "coco"), "--cfg", COCO_CFG, "--checkpoint", str(pose_ckpt),
        "--detfile", str(coco_detfile), "--outdir", str(out), "--device", "cpu", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    results = read_json(out / "alphapose-results.json")
    per_image = {}
    for person in results:
        assert list(person) == ["image_id", "category_id", "keypoints", "score", "box", "idx"]
        assert person["category_id"] == 1 and len(person["keypoints"]) == 17 * 3
        assert len(person["box"]) == 4 and person["box"][2] > 0 and person["box"][3] > 0
        # detection-file ids (0 when a record has none) are written as AlphaPose's --detfile path writes them:
        # a bare id for a single-box pose, a flat list for a merged one
        idx = person["idx"]
        assert idx == 0 or (isinstance(idx, list) and len(idx) > 1 and set(idx) == {0})
        per_image[person["image_id"]] = per_image.get(person["image_id"], 0) + 1
    # pose NMS keeps or merges every box exactly once (a merged pose lists one id per member box)
    members: Counter[str] = Counter()
    for person in results:
        members[person["image_id"]] += len(person["idx"]) if isinstance(person["idx"], list) else 1
    assert members == Counter(f"{r['image_id']:012d}.jpg" for r in read_json(coco_detfile))  # 1, 5, 6, 6
    assert per_image["000000000785.jpg"] == 1
    lines = (out / "alphapose-results.jsonl").read_text().splitlines()
    assert [json.loads(line)["image_id"] for line in lines] == sorted(per_image)
    assert "frames" in err and str(out / "alphapose-results.json") in err  # the summary line


def test_one_person_keeps_its_box_and_gets_the_library_s_keypoints(
    capsys, tmp_path, shared_data, pose_ckpt, coco_detfile
) -> None:
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(shared_data / "coco" / "000000000785.jpg"), "--checkpoint", str(pose_ckpt),
        "--detfile", str(coco_detfile), "--outdir", str(out), "--device", "cpu", "--quiet", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    (person,) = read_json(out / "alphapose-results.json")
    x, y, w, h = person["box"]
    # the detection with score 0.99997 in the shared file: [277.118, 45.700, 225.091, 333.560]
    assert (x, y, w, h) == pytest.approx((277.1183, 45.6997, 225.0913, 333.5603), abs=1e-3)
    # the CLI's keypoints are the library's for the same checkpoint, --opts and boxes (flags reach the pipeline)
    cfg = load_config(COCO_CFG, opts=SMALL[1:])
    pipeline = PosePipeline(cfg, pose_ckpt, detfile=coco_detfile, device="cpu")
    (expected,) = [
        r for result in pipeline.run(shared_data / "coco" / "000000000785.jpg") for r in alphapose_records(result)
    ]
    assert person["keypoints"] == pytest.approx(expected["keypoints"], abs=1e-4)
    assert person["score"] == pytest.approx(expected["score"], abs=1e-6)
    assert err == ""  # --quiet


def test_glob_and_coco_format(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    out = tmp_path / "coco"
    threads = torch.get_num_threads()
    code, err = infer(
        capsys, str(shared_data / "coco" / "0000000*.jpg"), "--checkpoint", str(pose_ckpt), "--format", "coco",
        "--detfile", str(coco_detfile), "--outdir", str(out), "--device", "cpu", "-q", "--threads", "1", *SMALL,
    )  # fmt: skip
    assert torch.get_num_threads() == 1
    torch.set_num_threads(threads)
    assert code == 0, err
    ids = {p["image_id"] for p in read_json(out / "alphapose-results.json")}
    assert ids == {785, 40083}  # 0000000*.jpg matches 000000000785.jpg and 000000040083.jpg only


def test_track_keeps_each_person_s_id_and_writes_run_json(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    """Two people walk towards each other and the detection file lists them in alternating order: without
    tracking ``idx`` follows the file's order; with --track it follows the person."""
    records = []
    for frame in range(5):
        left = {"image_id": f"{frame}.jpg", "bbox": [100.0 + 20 * frame, 150.0, 80.0, 200.0], "score": 0.9}
        right = {"image_id": f"{frame}.jpg", "bbox": [600.0 - 20 * frame, 120.0, 90.0, 240.0], "score": 0.8}
        records += [left, right] if frame % 2 == 0 else [right, left]
    detfile = tmp_path / "dets.json"
    detfile.write_text(json.dumps(records))
    out = tmp_path / "tracked"
    code, err = infer(
        capsys, str(shared_data / "video" / "people_walking.mp4"), "--checkpoint", str(pose_ckpt),
        "--detfile", str(detfile), "--outdir", str(out), "--track", "--save-video", "--device", "cpu", "-q",
        "--pose-nms", "none", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    ids: dict[str, set[int]] = {"left": set(), "right": set()}
    for person in read_json(out / "alphapose-results.json"):
        assert isinstance(person["idx"], int)
        ids["left" if person["box"][0] < 380 else "right"].add(person["idx"])
    assert len(ids["left"]) == 1 and len(ids["right"]) == 1 and ids["left"] != ids["right"]
    info = read_json(out / "run.json")
    assert (info["fps"], info["frames"], info["width"], info["height"]) == (5.0, 5, 960, 540)
    assert info["options"]["track"] is True and info["status"] == "done"
    assert info["model"]["keypoint_set"]["name"] == "coco17"  # the set's definition travels with the results


def test_smooth_needs_track(capsys, shared_data, pose_ckpt) -> None:
    code, err = infer(capsys, str(shared_data / "video" / "people_walking.mp4"), "-w", str(pose_ckpt), "--smooth")
    assert_one_line(code, err, "--track")


def test_video_with_rendering_and_openpose(capsys, tmp_path, shared_data, pose_ckpt, video_detfile) -> None:
    out = tmp_path / "video"
    code, err = infer(
        capsys, str(shared_data / "video" / "people_walking.mp4"), "--checkpoint", str(pose_ckpt),
        "--detfile", str(video_detfile), "--outdir", str(out), "--format", "openpose", "--save-video",
        "--save-img", "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    results = read_json(out / "alphapose-results.json")
    assert list(results) == [f"{i}.jpg" for i in range(5)]
    people = results["0.jpg"]["people"]
    assert results["0.jpg"]["version"] == "AlphaPose v0.3" and len(people) == 2
    flat = np.asarray(people[0]["pose_keypoints_2d"]).reshape(18, 3)
    sep = read_json(out / "sep-json" / "0.json")
    assert sep["people"] == people
    # slot 1 is the neck: the mean of the shoulders (COCO 5 and 6 sit at OpenPose slots 5 and 2)
    assert flat[1] == pytest.approx((flat[5] + flat[2]) / 2, abs=1e-4)
    video = cv2.VideoCapture(str(out / "AlphaPose_people_walking.mp4"))
    frames = 0
    while video.read()[0]:
        frames += 1
    assert frames == 5
    rendered = cv2.imread(str(out / "vis" / "0.jpg"))
    source = cv2.VideoCapture(str(shared_data / "video" / "people_walking.mp4")).read()[1]
    assert rendered.shape == source.shape
    assert np.abs(rendered.astype(int) - source.astype(int)).max() > 100  # something was drawn


class RangeHandler(SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support, which FFmpeg needs to read an MP4 whose index is at the end."""

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        path = Path(self.translate_path(self.path))
        data = path.read_bytes()
        start, end = 0, len(data) - 1
        header = self.headers.get("Range")
        if header and header.startswith("bytes="):
            first, _, last = header[6:].partition("-")
            start = int(first or 0)
            end = int(last) if last else end
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data[start : end + 1])


@pytest.fixture
def http_video(shared_data):
    handler = partial(RangeHandler, directory=str(shared_data / "video"))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/people_walking.mp4"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_stream_url(capsys, tmp_path, http_video, pose_ckpt, video_detfile) -> None:
    out = tmp_path / "stream"
    code, err = infer(
        capsys, http_video, "--checkpoint", str(pose_ckpt), "--detfile", str(video_detfile), "--outdir", str(out),
        "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    lines = (out / "alphapose-results.jsonl").read_text().splitlines()
    assert [json.loads(line)["image_id"] for line in lines] == [f"{i}.jpg" for i in range(5)]


def test_frame_without_people_is_an_empty_list(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    detfile = tmp_path / "one.json"
    detfile.write_text(json.dumps([{"image_id": 785, "bbox": [277.1, 45.7, 225.1, 333.6], "score": 0.99}]))
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(shared_data / "coco"), "--checkpoint", str(pose_ckpt), "--detfile", str(detfile),
        "--outdir", str(out), "--device", "cpu", "-q", "--save-video", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    lines = [json.loads(line) for line in (out / "alphapose-results.jsonl").read_text().splitlines()]
    assert len(lines) == 4 and [len(line["people"]) for line in lines] == [1, 0, 0, 0]
    assert len(read_json(out / "alphapose-results.json")) == 1
    # the four images differ in size; every one becomes a frame of the first one's size (640x425; the mp4v
    # encoder rounds the height down to an even 424)
    video = cv2.VideoCapture(str(out / "AlphaPose_coco.mp4"))
    sizes = []
    while (item := video.read())[0]:
        sizes.append(item[1].shape)
    assert len(sizes) == 4 and set(sizes) == {(424, 640, 3)}


def test_halpe26_model_through_the_same_path(capsys, tmp_path, shared_data, coco_detfile) -> None:
    config = "halpe26/fastpose_res50_256x192"
    ckpt = confident_checkpoint(tmp_path / "halpe.pth", config)
    out = tmp_path / "halpe"
    code, err = infer(
        capsys, str(shared_data / "coco" / "000000000785.jpg"), "--cfg", config, "--checkpoint", str(ckpt),
        "--detfile", str(coco_detfile), "--outdir", str(out), "--save-img", "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    (person,) = read_json(out / "alphapose-results.json")
    assert len(person["keypoints"]) == 26 * 3
    assert (out / "vis" / "000000000785.jpg").is_file()


def test_runs_never_overwrite(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    image = str(shared_data / "coco" / "000000000785.jpg")
    for _ in range(2):
        code, err = infer(
            capsys, image, "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile), "--device", "cpu",
            "-q", *SMALL,
        )  # fmt: skip
        assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "runs" / "infer").iterdir()) == ["exp", "exp2"]


# --- errors: one line on stderr, non-zero exit -------------------------------------------------------------------


def assert_one_line(code: int, err: str, *needles: str) -> None:
    assert code != 0
    assert err.startswith("akit: error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, err


def test_missing_input(capsys, tmp_path, pose_ckpt) -> None:
    code, err = infer(capsys, str(tmp_path / "nope.mp4"), "--checkpoint", str(pose_ckpt))
    assert_one_line(code, err, "input not found", "nope.mp4")


def test_corrupt_video(capsys, tmp_path, pose_ckpt, video_detfile) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(os.urandom(4096))
    code, err = infer(capsys, str(bad), "--checkpoint", str(pose_ckpt), "--detfile", str(video_detfile), "-q")
    assert_one_line(code, err, "broken.mp4")


def test_directory_without_images(capsys, tmp_path, pose_ckpt) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no images here")
    code, err = infer(capsys, str(tmp_path / "empty"), "--checkpoint", str(pose_ckpt))
    assert_one_line(code, err, "no images")


def test_wrong_truncated_and_mismatched_checkpoints(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    image = str(shared_data / "coco" / "000000000785.jpg")
    common = ["--detfile", str(coco_detfile), "--device", "cpu", "-q", "--outdir", str(tmp_path / "o")]
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(pose_ckpt.read_bytes()[:100_000])
    code, err = infer(capsys, image, "--checkpoint", str(truncated), *common)
    assert_one_line(code, err, "truncated.pth")
    notes = tmp_path / "notes.pth"
    notes.write_text("my training notes, not a checkpoint")
    code, err = infer(capsys, image, "--checkpoint", str(notes), *common)
    assert_one_line(code, err, "notes.pth", "not a")
    code, err = infer(capsys, image, "--cfg", "coco/simplepose_res50_256x192", "--checkpoint", str(pose_ckpt), *common)
    assert_one_line(code, err, "SimplePose", "FastPose")
    code, err = infer(capsys, image, "--cfg", "halpe26/fastpose_res50_256x192", "--checkpoint", str(pose_ckpt), *common)
    assert_one_line(code, err, "17 joints", "26")


def test_outdir_with_results_is_not_replaced_without_exist_ok(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("000000000785.jpg", "000000040083.jpg"):
        (images / name).write_bytes((shared_data / "coco" / name).read_bytes())
    out = tmp_path / "out"
    args = ("--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile), "-o", str(out), "--save-img", *SMALL)
    code, err = infer(capsys, str(images), *args)
    assert code == 0, err
    assert "2 frames, " in err  # the summary counts in words that agree with the number
    assert sorted(p.name for p in (out / "vis").iterdir()) == ["000000000785.jpg", "000000040083.jpg"]
    (out / "notes.txt").write_text("mine")
    before = (out / "alphapose-results.json").read_bytes()
    code, err = infer(capsys, str(images / "000000000785.jpg"), *args)
    assert_one_line(code, err, "already holds the outputs of an earlier akit infer", "--exist-ok")
    assert (out / "alphapose-results.json").read_bytes() == before
    code, err = infer(capsys, str(images / "000000000785.jpg"), *args, "--exist-ok", "-q")
    assert code == 0, err
    # the earlier run's rendering of the other image is gone; a file akit did not write stays
    assert [p.name for p in (out / "vis").iterdir()] == ["000000000785.jpg"]
    assert (out / "notes.txt").read_text() == "mine"
    assert {p["image_id"] for p in read_json(out / "alphapose-results.json")} == {"000000000785.jpg"}


@pytest.mark.parametrize(
    ("text", "needle"),
    [(b"\xff\xfe\x00bad", "UTF-8"), (b"MODEL: [unclosed", "not a readable YAML"), (b"42", "YAML mapping"),
     (b"MODEL:\n  NUM_LAYER: 50\n", "MODEL.NUM_LAYERS"), (b"", "is empty")],
    ids=["not-utf8", "broken-yaml", "scalar", "unknown-key", "empty"],
)  # fmt: skip
def test_config_problems_without_weights_name_the_config(capsys, tmp_path, shared_data, text, needle) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(text)
    code, err = infer(capsys, str(shared_data / "coco" / "000000000785.jpg"), "--cfg", str(bad))
    assert_one_line(code, err, "bad.yaml", needle)
    assert "no official weights" not in err


def test_config_typo(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    image = str(shared_data / "coco" / "000000000785.jpg")
    code, err = infer(capsys, image, "--checkpoint", str(pose_ckpt), "--opts", "MODEL.NUM_LAYER", "50")
    assert_one_line(code, err, "MODEL.NUM_LAYER", "MODEL.NUM_LAYERS")
    bad = tmp_path / "typo.yaml"
    bad.write_text("MODEL:\n  TYPE: FastPose\n  CONV_DIMS: 128\n")
    code, err = infer(capsys, image, "--cfg", str(bad), "--checkpoint", str(pose_ckpt))
    assert_one_line(code, err, "typo.yaml", "MODEL.CONV_DIM")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_absent(capsys, shared_data, pose_ckpt, coco_detfile) -> None:
    image = str(shared_data / "coco" / "000000000785.jpg")
    code, err = infer(
        capsys, image, "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile), "--device", "cuda:0"
    )
    assert_one_line(code, err, "CUDA is not available")


def test_output_dir_not_writable(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file where a folder should be")
    image = str(shared_data / "coco" / "000000000785.jpg")
    code, err = infer(
        capsys, image, "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile), "--outdir",
        str(blocker / "out"),
    )  # fmt: skip
    assert_one_line(code, err, "not writable")


def test_unknown_flag_is_one_line(capsys, shared_data) -> None:
    code, err = infer(capsys, str(shared_data / "coco"), "--flipp")
    assert_one_line(code, err, "--flipp")


def test_offline_default_weights_name_url_and_path(capsys, tmp_path, shared_data, monkeypatch) -> None:
    import dataclasses

    from alphapose_kit.hub import zoo

    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    for name, url in (
        ("fastpose_res50_256x192", "http://127.0.0.1:9/fast.pth"),
        ("yolov3-spp", "http://127.0.0.1:9/y.w"),
    ):
        entry = dataclasses.replace(zoo.get_entry(name), urls=(url,))
        monkeypatch.setitem(zoo._REGISTRY, entry.name, entry)
    started = time.perf_counter()
    code, err = infer(capsys, str(shared_data / "coco"), "--device", "cpu")
    assert time.perf_counter() - started < 10
    # both files of the run are named at once, the pose model's and the detector's
    assert_one_line(code, err, "http://127.0.0.1:9/fast.pth", "http://127.0.0.1:9/y.w", str(tmp_path / "home"))
    assert not list((tmp_path / "home").rglob("*.lock"))


def test_detfile_that_names_none_of_the_inputs_fails(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    detfile = tmp_path / "other.json"
    detfile.write_text(json.dumps([{"image_id": "elsewhere.jpg", "bbox": [1.0, 1.0, 50.0, 90.0], "score": 0.9}]))
    code, err = infer(
        capsys, str(shared_data / "coco" / "000000000785.jpg"), "-w", str(pose_ckpt), "--detfile", str(detfile),
        "-o", str(tmp_path / "out"), *SMALL,
    )  # fmt: skip
    assert_one_line(code, err, "none of the 1 frames", "000000000785", "elsewhere.jpg")


def test_skip_bad_goes_on_past_an_unreadable_image(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    for name in ("000000000785.jpg", "000000040083.jpg"):
        (folder / name).write_bytes((shared_data / "coco" / name).read_bytes())
    (folder / "000000000786.jpg").write_bytes(b"not an image")
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(folder), "-w", str(pose_ckpt), "--detfile", str(coco_detfile), "-o", str(out), "--skip-bad",
        "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    assert "1 unreadable image(s) skipped" in err and "000000000786.jpg" in err
    assert {p["image_id"] for p in read_json(out / "alphapose-results.json")} == {
        "000000000785.jpg",
        "000000040083.jpg",
    }


def test_error_mid_run_keeps_finished_frames(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "000000000785.jpg").write_bytes((shared_data / "coco" / "000000000785.jpg").read_bytes())
    (folder / "zz_broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(folder), "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile), "--outdir", str(out),
        "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert_one_line(code, err, "zz_broken.jpg")
    assert [p["image_id"] for p in read_json(out / "alphapose-results.json")] == ["000000000785.jpg"]


# --- interruption: Ctrl-C keeps every finished frame, a kill keeps the stream -----------------------------------


@pytest.fixture(scope="module")
def long_video(tmp_path_factory, shared_data) -> Path:
    """people_walking.mp4 looped to 60 frames at 480x270."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    capture = cv2.VideoCapture(str(shared_data / "video" / "people_walking.mp4"))
    frames = []
    while (item := capture.read())[0]:
        frames.append(cv2.resize(item[1], (480, 270)))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (480, 270))
    for i in range(60):
        writer.write(frames[i % len(frames)])
    writer.release()
    return path


def start_infer(video: Path, out: Path, ckpt: Path, detfile: Path, *extra: str) -> subprocess.Popen:
    command = [
        sys.executable, "-m", "alphapose_kit", "infer", str(video), "--checkpoint", str(ckpt),
        "--detfile", str(detfile), "--outdir", str(out), "--device", "cpu", "-q", "--det-batch", "1", *SMALL, *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, stderr=subprocess.PIPE, text=True)


def wait_for_lines(path: Path, count: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().count("\n") >= count:
            return
        if process.poll() is not None:
            pytest.fail(f"infer ended early: {process.stderr.read()}")
        time.sleep(0.2)
    process.kill()
    pytest.fail("no progress in time")


@pytest.fixture(scope="module")
def long_detfile(tmp_path_factory) -> Path:
    records = [{"image_id": f"{i}.jpg", "bbox": [50.0, 75.0, 40.0, 100.0], "score": 0.9} for i in range(60)]
    path = tmp_path_factory.mktemp("ldet") / "dets.json"
    path.write_text(json.dumps(records))
    return path


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_writes_final_json_and_a_playable_video(tmp_path, long_video, pose_ckpt, long_detfile, stop) -> None:
    out = tmp_path / "stopped"
    process = start_infer(long_video, out, pose_ckpt, long_detfile, "--save-video")
    wait_for_lines(out / "alphapose-results.jsonl", 3, process)
    process.send_signal(stop)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    streamed = [json.loads(line) for line in (out / "alphapose-results.jsonl").read_text().splitlines()]
    assert 3 <= len(streamed) < 60
    final = read_json(out / "alphapose-results.json")
    assert [p["image_id"] for p in final] == [line["image_id"] for line in streamed]
    capture = cv2.VideoCapture(str(next(out.glob("*.mp4"))))
    frames = 0
    while capture.read()[0]:
        frames += 1
    assert frames == len(streamed)
    info = read_json(out / "run.json")
    assert info["status"] == "interrupted" and info["frames"] == len(streamed)


def test_kill_keeps_every_streamed_frame_and_eval_analyze_read_them(
    capsys, tmp_path, long_video, pose_ckpt, long_detfile
) -> None:
    out = tmp_path / "sigkill"
    process = start_infer(long_video, out, pose_ckpt, long_detfile, "--track")
    wait_for_lines(out / "alphapose-results.jsonl", 2, process)
    process.kill()  # SIGKILL: no handler runs, nothing is finished
    process.wait(timeout=60)
    text = (out / "alphapose-results.jsonl").read_text()
    complete = text[: text.rfind("\n") + 1].splitlines()
    frames = [json.loads(line)["frame"] for line in complete]  # every complete line parses
    assert frames == list(range(len(frames))) and len(frames) >= 2
    assert not (out / "alphapose-results.json").exists()
    info = read_json(out / "run.json")  # written when the run started
    assert info["status"] == "running" and info["source"] == str(long_video)
    assert info["model"]["keypoint_set"]["name"] == "coco17" and len(info["model"]["keypoint_set"]["names"]) == 17
    people = sum(len(json.loads(line)["people"]) for line in complete)
    assert people >= len(frames)  # the one box of every frame gives a pose
    code = main(["analyze", "angles", str(out), "-o", str(tmp_path / "angles")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "unfinished run" in err and "running" in err
    rows = (tmp_path / "angles" / "angles.csv").read_text().splitlines()[1:]
    assert len(rows) == people and sorted({int(r.split(",")[1]) for r in rows}) == frames


def test_webcam_that_is_not_there(capsys, pose_ckpt) -> None:
    code, err = infer(capsys, "7", "--checkpoint", str(pose_ckpt))
    assert_one_line(code, err, "webcam 7")


def test_wrong_detector_weights(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    image = str(shared_data / "coco" / "000000000785.jpg")
    code, err = infer(capsys, image, "--checkpoint", str(pose_ckpt), "--detector", "yolov5s", "--detector-weights",
                      str(pose_ckpt), "--device", "cpu")  # fmt: skip
    assert_one_line(code, err, "fastpose.pth")
    code, err = infer(capsys, image, "--checkpoint", str(pose_ckpt), "--detector", "yolov3-spp",
                      "--detector-weights", str(pose_ckpt), "--device", "cpu")  # fmt: skip
    assert_one_line(code, err, "fastpose.pth")


def test_usage_errors_are_one_line(capsys, shared_data) -> None:
    code, err = infer(capsys)
    assert_one_line(code, err, "Missing argument")
    code, err = infer(capsys, str(shared_data / "coco"), "--batch", "abc")
    assert_one_line(code, err, "--batch")
    code, err = infer(capsys, str(shared_data / "coco"), "second_source")
    assert_one_line(code, err, "several sources")  # they run with --ray
    code, err = infer(capsys, str(shared_data / "coco"), "--nope")
    assert_one_line(code, err, "unexpected option '--nope'")


def test_bad_flag_values_fail_before_any_work(capsys, tmp_path, shared_data, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))  # nothing cached: loading would try a download
    image = str(shared_data / "coco" / "000000000785.jpg")
    for flags, needle in (
        (["--format", "xyz"], "unknown format 'xyz'"),
        (["--pose-nms", "xyz"], "unknown pose NMS"),
        (["--batch", "0"], "--batch must be at least 1"),
        (["--det-size", "100"], "multiple of 32"),
        (["--min-box-area", "-1"], "must not be negative"),
        (["--detfile", "d.json", "--conf", "0.5"], "do not apply with --detfile"),
        (["--detfile", "d.json", "-d", "yolov5s"], "do not apply with --detfile"),
        (["--conf", "2.0"], "--conf is a score in [0, 1], got 2.0"),  # checked before any weights are fetched
        (["--conf", "-0.1"], "--conf is a score in [0, 1]"),
        (["--nms", "1.5"], "--nms is an IoU in [0, 1], got 1.5"),
        (["--nms", "nan"], "--nms is an IoU in [0, 1], got nan"),
    ):
        code, err = infer(capsys, image, *flags)
        assert_one_line(code, err, needle)
    assert not (tmp_path / "runs").exists()  # no empty run folders left behind


def test_unsupported_decoder_fails_at_start(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(shared_data / "coco"), "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile),
        "--outdir", str(out), "--device", "cpu", "--opts", "LOSS.TYPE", "L1LossDimSMPL",
    )  # fmt: skip
    assert_one_line(code, err, "L1LossDimSMPL")
    assert not out.exists()


def test_checkpoint_directory(capsys, tmp_path, shared_data) -> None:
    code, err = infer(capsys, str(shared_data / "coco"), "--checkpoint", str(tmp_path))
    assert_one_line(code, err, "is a directory")


def test_glob_output_names_and_files_with_brackets(capsys, tmp_path, shared_data, pose_ckpt, coco_detfile) -> None:
    out = tmp_path / "g"
    code, err = infer(
        capsys, str(shared_data / "coco" / "*.jpg"), "--checkpoint", str(pose_ckpt), "--detfile", str(coco_detfile),
        "--outdir", str(out), "--device", "cpu", "-q", "--save-video", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    assert (out / "AlphaPose_glob.mp4").is_file()
    odd = tmp_path / "img[1].jpg"  # an existing file whose name looks like a glob
    odd.write_bytes((shared_data / "coco" / "000000000785.jpg").read_bytes())
    detfile = tmp_path / "d.json"
    detfile.write_text(json.dumps([{"image_id": "img[1].jpg", "bbox": [277.1, 45.7, 225.1, 333.6], "score": 0.9}]))
    code, err = infer(
        capsys, str(odd), "--checkpoint", str(pose_ckpt), "--detfile", str(detfile), "--outdir", str(tmp_path / "o"),
        "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    assert [p["image_id"] for p in read_json(tmp_path / "o" / "alphapose-results.json")] == ["img[1].jpg"]


def test_network_detector_path(capsys, tmp_path, shared_data, pose_ckpt) -> None:
    from alphapose_kit.detectors.nets.yolov5 import build_yolov5

    weights = tmp_path / "yolov5n_random.pt"
    torch.save(build_yolov5("n").state_dict(), weights)
    out = tmp_path / "out"
    code, err = infer(
        capsys, str(shared_data / "coco" / "000000000785.jpg"), "--checkpoint", str(pose_ckpt), "--detector",
        "yolov5n", "--detector-weights", str(weights), "--det-size", "320", "--conf", "0.001", "--outdir", str(out),
        "--device", "cpu", "-q", *SMALL,
    )  # fmt: skip
    assert code == 0, err
    (line,) = [json.loads(x) for x in (out / "alphapose-results.jsonl").read_text().splitlines()]
    assert line["image_id"] == "000000000785.jpg"
    for person in line["people"]:  # whatever a random detector finds goes through the whole pipeline
        assert len(person["keypoints"]) == 51 and person["box"][2] >= 0
