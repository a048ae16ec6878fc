"""``akit eval`` end to end: outputs, the printed table, the detector path, DataLoader workers, torchrun sharding, and
every user error as one line with a non-zero exit.

The network is GoldenPoseNet (tests/evaluation/golden_model.py), built by the CLI from a config and a checkpoint as
MODEL.TYPE GoldenPoseNetTest (tests/evaluation/cli_model.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from alphapose_kit import evaluate
from alphapose_kit.cli.app import main
from alphapose_kit.detectors import YOLODetector
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.metric import STAT_KEYS
from tests.evaluation.cli_model import CONFIG, MODEL_OPTS, write_checkpoint
from tests.evaluation.golden_model import GoldenPoseNet
from tests.paths import COCO, REPO

ANN = COCO / "person_keypoints.json"
DETS = COCO / "person_detections.json"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "golden.pth")


def model_args(checkpoint: Path, outdir: Path | None, *extra: str) -> list[str]:
    """``akit eval`` on the shared COCO data with GoldenPoseNet; no --outdir when ``outdir`` is None."""
    where = [] if outdir is None else ["--outdir", str(outdir)]
    return [
        "eval",
        "--coco",
        str(ANN),
        "--images",
        str(COCO),
        "--cfg",
        CONFIG,
        "--checkpoint",
        str(checkpoint),
        "--device",
        "cpu",
        *where,
        *extra,
        *MODEL_OPTS,
    ]


def test_model_eval_writes_results_metrics_table_and_plots(checkpoint: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "run"
    assert main(model_args(checkpoint, out, "--boxes", f"gt,{DETS}", "--plot", "--workers", "0")) == 0
    printed = capsys.readouterr().out
    assert " Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets= 20 ] = " in printed
    assert "gt boxes: 12 results on 4 images" in printed and "det boxes: 118 results" in printed
    assert "AP gt - det" in printed and f"-> {out}" in printed
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics) == {"gt", "det", "outdir"} and all(k in metrics["gt"] for k in STAT_KEYS)
    for name in ("results_gt.json", "results_det.json"):
        records = json.loads((out / name).read_text())
        assert all(isinstance(r["image_id"], int) and len(r["keypoints"]) == 51 for r in records)
    assert (out / "eval_gt.png").stat().st_size > 10_000 and (out / "eval_det.png").stat().st_size > 10_000


def test_default_run_folder_and_results_mode(checkpoint: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(model_args(checkpoint, None, "--workers", "0", "-q")) == 0
    assert capsys.readouterr().out == ""
    first = tmp_path / "runs" / "eval" / "exp"
    assert (first / "results.json").is_file()
    # the written results, scored again through --results, give the same numbers
    assert main(["eval", "--coco", str(ANN), "--results", str(first / "results.json")]) == 0
    again = json.loads((tmp_path / "runs" / "eval" / "exp2" / "metrics.json").read_text())
    assert [again[k] for k in STAT_KEYS] == [json.loads((first / "metrics.json").read_text())[k] for k in STAT_KEYS]


def test_dataloader_workers_give_the_same_results(tmp_path: Path) -> None:
    runs = []
    for workers in (0, 2):
        evaluate(
            ANN,
            COCO,
            model=GoldenPoseNet(),
            config=CONFIG,
            boxes=str(DETS),
            device="cpu",
            workers=workers,
            batch=7,
            quiet=True,
            outdir=tmp_path / str(workers),
        )
        runs.append((tmp_path / str(workers) / "results.json").read_text())
    assert runs[0] == runs[1]


class BoxesFromPixels(nn.Module):
    """A YOLO-shaped network whose boxes depend on the image (deterministic), for the detector path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, size, _ = x.shape
        rows = torch.zeros(n, 3, 85)
        level = x.mean(dim=(1, 2, 3))
        for j, (cx, w) in enumerate(((0.3, 0.2), (0.6, 0.3), (0.5, 0.6))):
            rows[:, j, 0] = size * cx + 10 * level
            rows[:, j, 1] = size * 0.5
            rows[:, j, 2] = size * w
            rows[:, j, 3] = size * 0.7
            rows[:, j, 4] = 0.3 + 0.2 * j
            rows[:, j, 5] = 1.0  # person
        return rows


def test_detector_boxes_are_written_and_reused_identically(tmp_path: Path) -> None:
    detector = YOLODetector(BoxesFromPixels(), input_size=64, conf=0.1, nms=0.6)
    common = dict(model=GoldenPoseNet(), config=CONFIG, device="cpu", workers=0, quiet=True)
    detected = evaluate(ANN, COCO, boxes="yolov3-spp", detector=detector, outdir=tmp_path / "a", **common)
    written = json.loads((tmp_path / "a" / "detections.json").read_text())
    assert len(written) == detected["detections"] == 12 and [d["image_id"] for d in written[::3]] == sorted(
        [785, 40083, 196141, 197388]
    )  # images in id order, as AlphaPose's write_coco_json
    reused = evaluate(ANN, COCO, boxes=str(tmp_path / "a" / "detections.json"), outdir=tmp_path / "b", **common)
    assert (tmp_path / "a" / "results.json").read_text() == (tmp_path / "b" / "results.json").read_text()
    assert [reused[k] for k in STAT_KEYS] == [detected[k] for k in STAT_KEYS]


def test_torchrun_two_processes_equal_one(checkpoint: Path, tmp_path: Path) -> None:
    args = ["--boxes", f"gt,{DETS}", "--flip", "--workers", "0", "--batch", "5", "-q"]
    assert main(model_args(checkpoint, tmp_path / "single", *args)) == 0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "tests.evaluation.cli_model",
        *model_args(checkpoint, tmp_path / "sharded", *args),
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("results_gt.json", "results_det.json"):
        assert (tmp_path / "sharded" / name).read_text() == (tmp_path / "single" / name).read_text()
    single = json.loads((tmp_path / "single" / "metrics.json").read_text())
    sharded = json.loads((tmp_path / "sharded" / "metrics.json").read_text())
    assert {k: v for k, v in sharded.items() if k != "outdir"} == {k: v for k, v in single.items() if k != "outdir"}


def run_error(args: list[str], capsys) -> str:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("akit: error: ") and err.count("\n") == 1
    return err


def test_errors_are_one_line(checkpoint: Path, tmp_path: Path, capsys) -> None:
    data = json.loads(ANN.read_text())
    bare = {**data, "annotations": [{k: v for k, v in a.items() if k != "keypoints"} for a in data["annotations"]]}
    (tmp_path / "bare.json").write_text(json.dumps(bare))
    out = tmp_path / "out"
    assert "has no keypoints" in run_error(
        ["eval", "--coco", str(tmp_path / "bare.json"), "--results", str(DETS)], capsys
    )

    images = tmp_path / "images"
    images.mkdir()
    (images / "000000040083.jpg").symlink_to(COCO / "000000040083.jpg")
    err = run_error(["eval", "--coco", str(ANN), "--images", str(images), *model_args(checkpoint, out)[5:]], capsys)
    assert "3 of 4 images" in err and "first: 000000000785.jpg" in err

    halpe = [*MODEL_OPTS, "DATA_PRESET.NUM_JOINTS", "26", "DATA_PRESET.KEYPOINT_SET", "halpe26"]
    err = run_error(model_args(checkpoint, out)[:-3] + halpe, capsys)
    assert "predicts 26 joints (halpe26) but person_keypoints.json annotates 17" in err

    (tmp_path / "strangers.json").write_text(
        json.dumps([{"image_id": 5, "category_id": 1, "score": 1.0, "keypoints": [1.0] * 51}])
    )
    assert "names an image" in run_error(
        ["eval", "--coco", str(ANN), "--results", str(tmp_path / "strangers.json")], capsys
    )
    (tmp_path / "empty.json").write_text("[]")
    assert "is empty" in run_error(["eval", "--coco", str(ANN), "--results", str(tmp_path / "empty.json")], capsys)

    (tmp_path / "dets.json").write_text(json.dumps([{"image_id": 785, "bbox": [1, 2, 3], "score": 0.5}]))
    err = run_error(model_args(checkpoint, out, "--boxes", str(tmp_path / "dets.json")), capsys)
    assert "entry 0: bbox must be 4 finite numbers" in err
    (tmp_path / "dets.json").write_text(json.dumps({"image_id": 785}))
    assert "must hold a JSON list" in run_error(
        model_args(checkpoint, out, "--boxes", str(tmp_path / "dets.json")), capsys
    )

    err = run_error(["eval", "--coco", str(ANN), "--results", str(DETS), "--checkpoint", str(checkpoint)], capsys)
    assert "--results evaluates an existing file; it takes no --checkpoint" in err
    assert "needs --images" in run_error(["eval", "--coco", str(ANN), "--checkpoint", str(checkpoint)], capsys)
    assert "--boxes takes gt" in run_error(model_args(checkpoint, out, "--boxes", "gt,a.json,b.json"), capsys)
    assert "unknown detector 'yolov9'" in run_error(model_args(checkpoint, out, "--boxes", "yolov9"), capsys)
    assert "detection file not found" in run_error(model_args(checkpoint, out, "--boxes", "gt,no.json"), capsys)
    assert not out.exists()  # no empty run folders from failed runs


def test_results_matching_no_image_are_counted_and_said(tmp_path: Path, capsys) -> None:
    records = json.loads(ANN.read_text())["annotations"]
    results = [
        {"image_id": "000000000785.jpg", "category_id": 1, "keypoints": records[0]["keypoints"], "score": 1.0},
        {"image_id": "elsewhere/000000000001.jpg", "category_id": 1, "keypoints": records[0]["keypoints"], "score": 1},
    ]
    (tmp_path / "r.json").write_text(json.dumps(results))
    assert main(["eval", "--coco", str(ANN), "--results", str(tmp_path / "r.json"), "-o", str(tmp_path / "o")]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        "1 results on 1 images; 1 results name no image of the annotation file (left out); "
        "3 annotated images have no result (not scored)"
    )


def test_a_detector_named_in_boxes_runs_at_its_yaml_thresholds(tmp_path: Path, monkeypatch) -> None:
    """One home for the thresholds: configs/detector/yolov5n.yaml's (what akit infer uses), not numbers in eval."""
    import yaml

    from alphapose_kit.detectors.nets.yolov5 import build_yolov5
    from alphapose_kit.evaluation import runner

    weights = tmp_path / "yolov5n_random.pt"
    torch.save(build_yolov5("n").state_dict(), weights)
    built: list = []

    def load_and_keep(*args, **kwargs):
        built.append(runner_load(*args, **kwargs))  # the real detector, kept to read its settings
        return built[-1]

    runner_load = runner.load_detector
    monkeypatch.setattr(runner, "load_detector", load_and_keep)
    common = dict(model=GoldenPoseNet(), config=CONFIG, device="cpu", workers=0, quiet=True)
    with contextlib.suppress(AkitError):  # a random detector may find nobody: only its settings matter here
        evaluate(ANN, COCO, boxes="yolov5n", detector_weights=str(weights), outdir=tmp_path / "a", **common)
    spec = yaml.safe_load((REPO / "configs" / "detector" / "yolov5n.yaml").read_text())["DETECTOR"]
    (detector,) = built
    assert (detector.conf, detector.nms) == (spec["CONFIDENCE"], spec["NMS_THRES"]) == (0.25, 0.45)
