"""INT8 through ONNX Runtime on real crops: the model, its report (numbers re-derived independently), fp32 layers."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from alphapose_kit.codecs import decode_heatmaps
from alphapose_kit.deploy.calibration import person_crops
from alphapose_kit.deploy.exporters import export_pose
from alphapose_kit.deploy.int8 import summary_lines
from alphapose_kit.deploy.metadata import read_metadata
from alphapose_kit.deploy.quantize import CropReader, Int8Options
from alphapose_kit.errors import AkitError
from alphapose_kit.models.loader import load_pose_model
from tests.deploy.nets import COCO_CFG, TINY, random_checkpoint, tiny_cfg
from tests.paths import COCO

KEYPOINTS = COCO / "person_keypoints.json"
OPTIONS = Int8Options(calib_size=6, held_out=6, keep_fp32=("conv_out",), bench_rounds=1, bench_batches=(1, 2))


@pytest.fixture(scope="module")
def int8_export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("int8")
    ckpt = random_checkpoint(folder / "tiny.pth")
    result = export_pose(
        COCO_CFG, ckpt, output=folder / "tiny-int8.onnx", dynamic_batch=True, int8=OPTIONS, calib=KEYPOINTS, opts=TINY
    )
    return result, ckpt


def test_int8_model_and_report_files(int8_export) -> None:
    result, _ = int8_export
    assert result.path.is_file() and result.report_path == result.path.with_name("tiny-int8.report.json")
    report = json.loads(result.report_path.read_text())
    assert report == json.loads(json.dumps(result.report))
    meta = read_metadata(result.path)
    assert meta["precision"] == "int8" and meta["int8"]["calibration"]["crops"] == 6
    ops = {node.op_type for node in onnx.load(str(result.path)).graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert report["sizes"]["int8_bytes"] == result.path.stat().st_size
    assert report["sizes"]["fp32_bytes"] > 2.5 * report["sizes"]["int8_bytes"]
    rows = {(r["backend"], r["batch"]): r for r in report["latency"]}
    assert set(rows) == {(b, n) for b in ("torch", "onnxruntime", "int8") for n in (1, 2)}
    for (_, batch), row in rows.items():
        assert row["p50_ms"] <= row["p90_ms"] <= row["p99_ms"]
        expected = row["throughput"] / rows["torch", batch]["throughput"]
        assert row["x_torch"] == pytest.approx(expected)
    ap = report["ap"]  # through akit eval on the calibration file's annotated images, ground-truth boxes
    assert ap["annotations"] == str(KEYPOINTS) and 0 <= ap["fp32"] <= 1 and 0 <= ap["int8"] <= 1
    assert any("keypoint agreement" in line for line in summary_lines(report))


def test_reported_accuracy_matches_an_independent_run(int8_export) -> None:
    result, ckpt = int8_export
    held = person_crops(KEYPOINTS, (128, 96), 12).crops[6:]  # the crops after the 6 calibration ones
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    int8_maps = session.run(None, {"input": held})[0]
    model = load_pose_model(tiny_cfg(), ckpt)
    with torch.no_grad():
        fp32_maps = model(torch.from_numpy(held)).numpy()
    a, _ = decode_heatmaps(fp32_maps)
    b, _ = decode_heatmaps(int8_maps)
    agreement = float(np.mean(np.linalg.norm(a - b, axis=-1) <= 1.0))
    accuracy = result.report["accuracy_int8_vs_fp32"]
    assert accuracy["held_out_crops"] == 6
    assert accuracy["agreement"] == pytest.approx(agreement)
    assert accuracy["max_abs_error"] == pytest.approx(float(np.abs(fp32_maps - int8_maps).max()), rel=1e-5)


def test_kept_layer_stays_float_and_is_not_ranked(int8_export) -> None:
    result, _ = int8_export
    graph = onnx.load(str(result.path)).graph
    producers = {out: node for node in graph.node for out in node.output}
    fp32_nodes = set(result.metadata["int8"]["fp32_nodes"])
    assert len(fp32_nodes) == 1
    for node in graph.node:
        if node.op_type == "Conv":
            weight_from = producers.get(node.input[1])
            quantised = weight_from is not None and weight_from.op_type == "DequantizeLinear"
            assert quantised == (node.name not in fp32_nodes)
    ranked = result.report["sensitive_layers"]
    assert 0 < len(ranked) <= 5 and all(layer["node"] not in fp32_nodes for layer in ranked)
    assert [layer["loss_db"] for layer in ranked] == sorted((layer["loss_db"] for layer in ranked), reverse=True)


def test_int8_errors(tmp_path) -> None:
    with pytest.raises(AkitError, match="--keep-fp32 nope: no quantisable layer"):
        export_pose(
            COCO_CFG, output=tmp_path / "m.onnx", int8=Int8Options(calib_size=2, held_out=2, keep_fp32=("nope",)),
            calib=KEYPOINTS, opts=TINY,
        )  # fmt: skip
    with pytest.raises(AkitError, match="unknown --calib-method"):
        export_pose(COCO_CFG, output=tmp_path / "m.onnx", int8=Int8Options(method="kl"), opts=TINY)
    with pytest.raises(AkitError, match="--int8 and --half"):
        export_pose(COCO_CFG, output=tmp_path / "m.onnx", int8=Int8Options(), half=True, opts=TINY)
    assert list(tmp_path.iterdir()) == []


def test_crop_reader_pads_fixed_batches() -> None:
    crops = np.arange(5 * 3 * 2 * 2, dtype=np.float32).reshape(5, 3, 2, 2)
    reader = CropReader(crops, "input", batch=2)
    batches = list(reader)
    assert [b["input"].shape[0] for b in batches] == [2, 2, 2]
    np.testing.assert_array_equal(batches[2]["input"][1], crops[4])  # the last crop repeated
    reader.rewind()
    assert len(list(reader)) == 3


def test_entropy_calibration_clips_activations_but_not_the_output(tmp_path) -> None:
    from onnx import numpy_helper

    from alphapose_kit.deploy.metadata import pose_metadata
    from alphapose_kit.deploy.onnx_export import export_onnx
    from alphapose_kit.deploy.quantize import quantize

    cfg = tiny_cfg()
    model = load_pose_model(cfg, random_checkpoint(tmp_path / "tiny.pth"))
    crops = person_crops(KEYPOINTS, (128, 96), 8).crops
    fp32 = tmp_path / "fp32.onnx"
    export_onnx(
        model, torch.from_numpy(crops[:1]), fp32, pose_metadata(cfg, precision="fp32", fmt="onnx", dynamic_batch=False)
    )
    scales = {}
    for method in ("minmax", "entropy"):
        out = tmp_path / f"{method}.onnx"
        quantize(fp32, tmp_path / f"{method}-pre.onnx", out, crops, "input", Int8Options(method=method))
        graph = onnx.load(str(out)).graph
        scales[method] = {
            t.name: float(numpy_helper.to_array(t))
            for t in graph.initializer
            if t.name.endswith("_scale") and not t.dims
        }
    minmax, entropy = scales["minmax"], scales["entropy"]
    assert minmax.keys() == entropy.keys()
    assert all(entropy[k] <= minmax[k] * (1 + 1e-6) for k in minmax)  # thresholds lie inside the min-max range
    assert sum(entropy[k] < 0.9 * minmax[k] for k in minmax) >= 3  # and clip several activations
    assert entropy["heatmaps_scale"] == minmax["heatmaps_scale"]  # the heatmaps themselves are never clipped
