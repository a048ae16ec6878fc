"""``akit infer --int8``'s models: exported once into $AKIT_HOME/exports, reused, exported again when the weights or
a setting change, rebuilt when an entry is corrupt, safe under concurrent calls, equal to fp32 through the pipeline."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import threading

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from alphapose_kit.deploy import auto_int8
from alphapose_kit.deploy.auto_int8 import cache_folder, int8_models
from alphapose_kit.deploy.quantize import Int8Options
from alphapose_kit.deploy.runtime import load_backend
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.errors import AkitError
from tests.deploy.nets import COCO_CFG, TINY, random_checkpoint
from tests.paths import COCO

# random weights on 6 held-out crops agree 86-94 % with fp32 (seed by seed): the floor is lowered for the cache tests
OPTIONS = Int8Options(calib_size=6, held_out=6, keep_fp32=("conv_out",), min_agreement=0.8, bench_rounds=0)


@pytest.fixture(scope="module")
def detfile(tmp_path_factory):
    records = [r for r in json.loads((COCO / "person_detections.json").read_text()) if r["score"] >= 0.5]
    path = tmp_path_factory.mktemp("det") / "dets.json"
    path.write_text(json.dumps(records))
    return str(path)


@pytest.fixture
def exports(monkeypatch, tmp_path):
    """A fresh $AKIT_HOME, and the list of outputs export_pose was asked for (the real export runs)."""
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    calls: list = []
    real = auto_int8.export_pose

    def counted(*args, **kwargs):
        calls.append(kwargs["output"])
        return real(*args, **kwargs)

    monkeypatch.setattr(auto_int8, "export_pose", counted)
    return calls


def _models(ckpt, detfile, options=OPTIONS):
    return int8_models(COCO_CFG, ckpt, str(COCO), detfile=detfile, device="cpu", opts=TINY, options=options)


def _sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_call_exports_and_later_calls_reuse(exports, tmp_path, detfile) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    first = _models(ckpt, detfile)
    assert len(exports) == 1 and first.detector is None
    assert first.pose.parent == cache_folder() == tmp_path / "home" / "exports"
    record = json.loads(first.pose.with_suffix(".json").read_text())
    assert record["model_sha256"] == _sha256(first.pose) and record["weights_sha256"] == _sha256(ckpt)
    assert record["settings"]["calib_size"] == 6 and record["settings"]["input_size"] == [128, 96]
    assert record["int8_vs_fp32"]["samples"] == 6 and record["int8_vs_fp32"]["agreement"] >= 0.8
    assert {"QuantizeLinear", "DequantizeLinear"} <= {node.op_type for node in onnx.load(str(first.pose)).graph.node}
    session = ort.InferenceSession(str(first.pose), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[2:] == [128, 96]
    stamp = first.pose.stat().st_mtime_ns
    second = _models(ckpt, detfile)
    assert second == first and len(exports) == 1 and first.pose.stat().st_mtime_ns == stamp
    assert not [p for p in cache_folder().iterdir() if p.name.startswith(".") and "tmp" in p.name]


def test_changed_weights_or_setting_export_again(exports, tmp_path, detfile) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    first = _models(ckpt, detfile).pose
    random_checkpoint(ckpt, seed=1)  # the same file name, other weights
    second = _models(ckpt, detfile).pose
    assert len(exports) == 2 and second != first and first.is_file()
    third = _models(ckpt, detfile, dataclasses.replace(OPTIONS, calib_size=8)).pose
    assert len(exports) == 3 and third not in (first, second)
    assert json.loads(third.with_suffix(".json").read_text())["settings"]["calib_size"] == 8
    assert _models(ckpt, detfile).pose == second and len(exports) == 3


@pytest.mark.parametrize("damage", ["truncated model", "garbage record", "missing record", "missing model"])
def test_a_corrupt_entry_is_rebuilt(exports, tmp_path, detfile, damage) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    path = _models(ckpt, detfile).pose
    good = path.read_bytes()
    record = path.with_suffix(".json")
    if damage == "truncated model":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "garbage record":
        record.write_text('{"key": ')
    elif damage == "missing record":
        record.unlink()
    else:
        path.unlink()
    leftover = path.with_name(f".{path.stem}.4242.0badf00d.onnx")  # a killed export's temporary model
    leftover.write_bytes(good[:100])
    again = _models(ckpt, detfile).pose
    assert again == path and len(exports) == 2 and not leftover.exists()
    assert json.loads(record.read_text())["model_sha256"] == _sha256(path)
    ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])  # a whole model again


def test_concurrent_calls_export_once(exports, tmp_path, detfile) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(_models(ckpt, detfile).pose)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and results[0] == results[1] and len(exports) == 1
    assert json.loads(results[0].with_suffix(".json").read_text())["model_sha256"] == _sha256(results[0])


def test_int8_models_give_the_fp32_keypoints_through_the_pipeline(exports, tmp_path, detfile) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    models = _models(ckpt, detfile)
    network, cfg = load_backend(models.pose, "onnxruntime")
    options = {"detfile": detfile, "device": "cpu", "pose_nms": "none"}
    int8 = list(PosePipeline(cfg, pose_model=network, **options).run(str(COCO)))
    fp32 = list(PosePipeline(cfg, ckpt, **options).run(str(COCO)))
    assert sum(r.num_people for r in fp32) > 0
    distances, sizes = [], []
    for a, b in zip(fp32, int8, strict=True):
        assert a.image_id == b.image_id and a.num_people == b.num_people
        np.testing.assert_array_equal(a.boxes, b.boxes)
        distances.append(np.linalg.norm(a.keypoints - b.keypoints, axis=-1))
        side = np.maximum(a.boxes[:, 2] - a.boxes[:, 0], a.boxes[:, 3] - a.boxes[:, 1])
        sizes.append(np.repeat(side[:, None], a.keypoints.shape[1], axis=1))
    distance, size = np.concatenate(distances), np.concatenate(sizes)
    # a heatmap pixel is 1/24 of the crop's width, the box's longer side x 1.25 at most: about 0.052 of that side
    assert np.mean(distance <= 0.07 * size) >= 0.9


def test_disagreeing_int8_model_fails_in_one_line_and_caches_nothing(exports, tmp_path, detfile) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    strict = Int8Options(calib_size=6, held_out=6, min_agreement=1.0, bench_rounds=0)  # head quantised too
    with pytest.raises(AkitError, match=r"INT8 pose model disagrees with fp32 .* run without --int8$"):
        _models(ckpt, detfile, strict)
    assert [p for p in cache_folder().iterdir() if not p.name.endswith(".lock")] == []


def test_no_weights_is_one_line(exports, detfile) -> None:
    with pytest.raises(AkitError, match=r"^--int8 exports trained weights: pass --checkpoint"):
        _models(None, detfile)
    assert exports == []


def test_akit_infer_int8_runs_the_cached_int8_model(exports, tmp_path, detfile, monkeypatch) -> None:
    """``akit infer --int8``: the first run exports and runs ONNX Runtime INT8 (run.json names the cached model),
    the second reuses the cache; the people equal the torch run's boxes; --calib without --int8 is one line."""
    from alphapose_kit.engine.infer import run_inference
    from alphapose_kit.engine.options import InferOptions

    monkeypatch.setattr(auto_int8, "INFER_INT8", OPTIONS)
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    common = {"source": str(COCO), "checkpoint": str(ckpt), "detfile": detfile, "device": "cpu", "quiet": True,
              "pose_nms": "none", "opts": list(TINY)}  # fmt: skip
    run_inference(InferOptions(outdir=str(tmp_path / "torch"), **common))
    for run in ("first", "second"):
        run_inference(InferOptions(outdir=str(tmp_path / run), int8=True, **common))
    assert len(exports) == 1
    info = json.loads((tmp_path / "second" / "run.json").read_text())
    assert info["options"]["backend"] == "onnxruntime" and info["options"]["pose_model"].startswith(str(cache_folder()))
    torch_people = json.loads((tmp_path / "torch" / "alphapose-results.json").read_text())
    int8_people = json.loads((tmp_path / "second" / "alphapose-results.json").read_text())
    assert [p["box"] for p in int8_people] == [p["box"] for p in torch_people]
    with pytest.raises(AkitError, match="--calib calibrates --int8"):
        InferOptions(calib=str(COCO), **common).validate()
