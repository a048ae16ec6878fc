"""``akit export`` and ``akit bench`` from the command line: outputs, printed checks, one-line errors."""

from __future__ import annotations

import json

import pytest

from alphapose_kit.cli.app import main
from tests.deploy.nets import TINY
from tests.paths import COCO

KEYPOINTS = str(COCO / "person_keypoints.json")
CFG = ["--cfg", "coco/fastpose_res50_256x192"]


def akit(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_onnx_prints_the_check(capsys, tmp_path, ckpt) -> None:
    target = tmp_path / "pose.onnx"
    code, out, err = akit(capsys, "export", *CFG, "--checkpoint", ckpt, "--output", str(target), "--opts", *TINY)
    assert code == 0, err
    assert "max abs heatmap error" in out and "keypoint agreement 100.00 % on 12 real crops" in out
    assert f"-> {target}" in out and target.is_file()


def test_export_int8_prints_the_report(capsys, tmp_path, ckpt) -> None:
    target = tmp_path / "pose-int8.onnx"
    code, out, err = akit(
        capsys, "export", *CFG, "--checkpoint", ckpt, "--int8", "--calib", KEYPOINTS, "--calib-size", "6",
        "--keep-fp32", "conv_out", "--min-agreement", "0", "--output", str(target), "--opts", *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert "INT8 vs fp32 on 6 held-out crops" in out and "most sensitive layers" in out and "x_torch" in out
    report = json.loads(target.with_name("pose-int8.report.json").read_text())
    assert report["keep_fp32"] == ["conv_out"] and report["calibration"]["method"] == "minmax"


def test_export_prune_then_onnx(capsys, tmp_path, ckpt) -> None:
    code, out, err = akit(
        capsys, "export", *CFG, "--checkpoint", ckpt, "--prune", "0.3", "--format", "onnx",
        "--output", str(tmp_path / "small.yaml"), "--opts", *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert "% fewer" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.onnx", "small.pth", "small.yaml"]


def test_export_prune_then_int8(capsys, tmp_path, ckpt) -> None:
    code, out, err = akit(
        capsys, "export", *CFG, "--checkpoint", ckpt, "--prune", "0.5", "--int8", "--calib", KEYPOINTS,
        "--calib-size", "6", "--min-agreement", "0", "--output", str(tmp_path / "small.yaml"), "--opts", *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small.onnx", "small.pth", "small.report.json", "small.yaml"]
    assert "INT8 vs fp32" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "torchscript", "--int8"], "--int8 needs --format onnx"),
        (["--prune", "1.5"], "--prune takes a ratio strictly between 0 and 1"),
        (["--prune", "0"], "--prune takes a ratio strictly between 0 and 1"),
        (["--format", "tflite"], "unknown format 'tflite'"),
        (["--int8", "--calib-method", "kl"], "unknown --calib-method 'kl'"),
        (["--opset", "17", "--opts", "MODEL.STAGE_WITH_DCN", "[false,true,true,true]"], "needs --opset 19"),
    ],
)
def test_export_errors_are_one_line(capsys, tmp_path, ckpt, args, message) -> None:
    code, _, err = akit(capsys, "export", *CFG, "--checkpoint", ckpt, "--output", str(tmp_path / "m"), *args)
    assert code == 1
    assert err.startswith("akit: error: ") and message in err and len(err.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_export_bad_calibration_and_output(capsys, tmp_path, ckpt) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text(json.dumps({"images": [], "annotations": []}))
    code, _, err = akit(capsys, "export", *CFG, "--checkpoint", ckpt, "--calib", str(empty), "--opts", *TINY)
    assert code == 1 and "has no people" in err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = akit(capsys, "export", *CFG, "--checkpoint", ckpt, "--output", str(blocker / "m.onnx"))
    assert code == 1 and "not writable" in err and len(err.strip().splitlines()) == 1


def test_bench_cli(capsys, tmp_path, ckpt) -> None:
    out_json = tmp_path / "b" / "bench.json"
    code, out, err = akit(
        capsys, "bench", *CFG, "--checkpoint", ckpt, "--backends", "torch,onnxruntime", "--batch", "1,2",
        "--rounds", "2", "--warmup", "1", "--output", str(out_json), "--opts", *TINY,
    )  # fmt: skip
    assert code == 0, err
    assert "p50 ms" in out and "onnxruntime" in out and f"wrote {out_json}" in out
    assert out_json.is_file() and out_json.with_suffix(".png").is_file()
    code, _, err = akit(capsys, "bench", *CFG, "--checkpoint", ckpt, "--batch", "1,x", "--opts", *TINY)
    assert code == 1 and "comma-separated list of int" in err
    code, _, err = akit(capsys, "export", "--detector", "yolov5s", "--input-size", "0")
    assert code == 1 and "--input-size must be a positive multiple of 32" in err  # before any download
    code, _, err = akit(
        capsys, "bench", *CFG, "--checkpoint", ckpt, "--source", str(tmp_path / "no.mp4"), "--opts", *TINY
    )
    assert code == 1 and "no.mp4" in err and "download" not in err
    for flag, value in (("--warmup", "-1"), ("--rounds", "0"), ("--frames", "0")):
        code, _, err = akit(capsys, "bench", *CFG, "--checkpoint", ckpt, flag, value, "--opts", *TINY)
        assert code == 1 and err.startswith(f"akit: error: {flag} must be at least") and err.count("\n") == 1, err


def test_infer_on_an_exported_model_gives_the_torch_json(capsys, tmp_path, ckpt) -> None:
    """``akit infer --backend onnxruntime --pose-model F.onnx`` needs no config (the file carries it) and writes the
    torch backend's people: same boxes and order, keypoints within float tolerance."""
    onnx = tmp_path / "pose.onnx"
    code, _, err = akit(capsys, "export", *CFG, "--checkpoint", ckpt, "--output", str(onnx), "--opts", *TINY)
    assert code == 0, err
    image = str(COCO / "000000196141.jpg")
    detfile = str(COCO / "person_detections.json")
    common = ["--detfile", detfile, "--pose-nms", "none", "--device", "cpu", "-q"]
    code, _, err = akit(capsys, "infer", image, "--backend", "onnxruntime", "--pose-model", str(onnx),
                        "-o", str(tmp_path / "ort"), *common)  # fmt: skip
    assert code == 0, err
    code, _, err = akit(
        capsys, "infer", image, *CFG, "-w", ckpt, "-o", str(tmp_path / "torch"), *common, "--opts", *TINY
    )
    assert code == 0, err
    ort, ref = (json.loads((tmp_path / d / "alphapose-results.json").read_text()) for d in ("ort", "torch"))
    assert len(ort) == len(ref) == 33  # every box of the shared file for this image
    for a, b in zip(ort, ref, strict=True):
        assert a["box"] == b["box"]
        assert a["keypoints"] == pytest.approx(b["keypoints"], abs=0.05)
    code, _, err = akit(capsys, "infer", image, "--backend", "onnxruntime")
    assert code == 1 and "--pose-model" in err
