"""YOLOv8 / YOLO11: parameter counts against Ultralytics' published ones, DFL decoding on a hand case, and release
files built by the ``ultralytics`` package itself (random weights, saved as its releases are) loaded by akit:
the same state_dict, the same network outputs and the same person boxes as ``model.predict``. Malicious pickles
never run; wrong files are named in one line.
"""

from __future__ import annotations

import builtins
import copy
import json
import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.cli.app import main
from alphapose_kit.detectors import load_detector
from alphapose_kit.detectors.letterbox import ultralytics_letterbox, ultralytics_letterbox_batch
from alphapose_kit.detectors.nets.yolov8 import MODEL_NAMES, build_yolov8
from alphapose_kit.detectors.nets.yolov8_checkpoint import load_ultralytics_weights
from alphapose_kit.errors import CheckpointError, ConfigError
from alphapose_kit.hub.zoo import get_entry

# "summary: L layers, P parameters" in the scales comments of ultralytics/cfg/models/v8/yolov8.yaml and
# cfg/models/11/yolo11.yaml: Ultralytics' own counts of the unfused networks (the DFL's 16 fixed weights included).
PUBLISHED = {
    "yolov8n": 3_157_200, "yolov8s": 11_166_560, "yolov8m": 25_902_640, "yolov8l": 43_691_520, "yolov8x": 68_229_648,
    "yolo11n": 2_624_080, "yolo11s": 9_458_752, "yolo11m": 20_114_688, "yolo11l": 25_372_160, "yolo11x": 56_966_176,
}  # fmt: skip
BIAS = -2.0  # the person logits' prior in release_file(calibrate=...): about 50-150 boxes pass conf 0.25
IMAGE = "000000000785.jpg"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_parameter_counts_are_the_published_ones(name: str) -> None:
    with torch.device("meta"):
        model = build_yolov8(name)
    assert sum(p.numel() for p in model.parameters()) == PUBLISHED[name]


def test_state_dict_keys_are_official() -> None:
    with torch.device("meta"):
        v8, v11 = build_yolov8("yolov8n").state_dict(), build_yolov8("yolo11n").state_dict()
    assert list(v8)[:2] == ["model.0.conv.weight", "model.0.bn.weight"] and list(v8)[-1] == "model.22.dfl.conv.weight"
    assert "model.2.m.0.cv2.conv.weight" in v8 and "model.22.cv3.2.1.bn.running_var" in v8
    assert list(v11)[-1] == "model.23.dfl.conv.weight"
    # C2PSA attention (layer 10), C3k inside C3k2 (layer 22 uses C3k even at scale n), the depthwise class branch
    for key in ("model.10.m.0.attn.qkv.conv.weight", "model.10.m.0.ffn.1.bn.bias", "model.22.m.0.m.1.cv2.conv.weight",
                "model.23.cv3.0.0.0.conv.weight", "model.23.cv3.0.1.1.conv.weight"):  # fmt: skip
        assert key in v11, key
    assert v11["model.23.cv3.0.0.0.conv.weight"].shape == (64, 1, 3, 3)  # depthwise 3x3 over 64 channels
    with pytest.raises(ConfigError, match="unknown Ultralytics model"):
        build_yolov8("yolov8q")


def test_dfl_decoding_on_a_hand_case() -> None:
    model = build_yolov8("yolov8n", num_classes=2).eval()
    detect = model.model[-1]
    box_bias = torch.full((4, 16), -60.0)
    for side, distance in enumerate((2, 1, 3, 0)):  # left, top, right, bottom in strides: a one-hot distribution
        box_bias[side, distance] = 60.0
    with torch.no_grad():
        for branch in detect.cv2:
            branch[-1].weight.zero_()
            branch[-1].bias.copy_(box_bias.flatten())
        for branch in detect.cv3:
            branch[-1].weight.zero_()
            branch[-1].bias.copy_(torch.tensor([0.0, np.log(3.0)]))  # sigmoids 0.5, 0.75
        pred, (boxes, logits) = model(torch.rand(1, 3, 64, 64))
    assert boxes.shape == (1, 64, 64 + 16 + 4) and logits.shape == (1, 2, 84)
    # anchor (c + 0.5, r + 0.5) in strides: x1 = c + 0.5 - 2, x2 = c + 0.5 + 3 -> cx = (c + 1) s, w = 5 s;
    # y1 = r + 0.5 - 1, y2 = r + 0.5 + 0 -> cy = r s, h = s
    expected = [
        [(c + 1) * s, r * s, 5 * s, s, 1.0, 0.5, 0.75]
        for s in (8, 16, 32)
        for r in range(64 // s)
        for c in range(64 // s)
    ]
    torch.testing.assert_close(pred[0], torch.tensor(expected), rtol=1e-6, atol=1e-4)


# --------------------------------------------------------------------------------------------------------------
# Release files made by the ultralytics package


def release_file(path: Path, name: str, calibrate: np.ndarray | None = None) -> torch.nn.Module:
    """``YOLO(name.yaml)`` with seeded random weights, saved as Ultralytics' releases are (strip_optimizer: the fp16
    DetectionModel under 'model', args as a dict, no EMA or optimizer); returns the float32 model of those weights.

    ``calibrate``: a BGR image whose own feature statistics become every BatchNorm's running statistics, so that
    the random network's outputs vary with the image (its default ones hardly do) and some person scores pass conf.
    """
    ultralytics = pytest.importorskip("ultralytics", exc_type=ImportError)
    from ultralytics.cfg import DEFAULT_CFG_DICT

    torch.manual_seed(0)
    model = ultralytics.YOLO(f"{name}.yaml").model
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        if calibrate is None:
            for key, tensor in model.state_dict().items():
                if key.endswith("running_var"):
                    tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
                elif key.endswith("running_mean"):
                    tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)
        else:
            for module in model.modules():
                if isinstance(module, torch.nn.BatchNorm2d):
                    module.reset_running_stats()
                    module.momentum = None  # the running statistics become those of this one batch
            model.train()(ultralytics_letterbox_batch([calibrate], 640))
            model.eval()
            for branch in model.model[-1].cv3:  # class 0 from its 0.01-objects prior to about even odds
                branch[-1].bias[0] = BIAS
    saved = copy.deepcopy(model).half()
    saved.args = dict(DEFAULT_CFG_DICT)
    for p in saved.parameters():
        p.requires_grad = False
    torch.save(
        {"date": "2024-09-30T00:00:00", "version": ultralytics.__version__, "license": "AGPL-3.0", "docs": "",
         "epoch": -1, "best_fitness": None, "model": saved, "ema": None, "updates": None, "optimizer": None,
         "train_args": dict(DEFAULT_CFG_DICT), "train_metrics": {}, "train_results": {}},
        path,
    )  # fmt: skip
    return saved.float().eval()


@pytest.mark.parametrize("name", ["yolov8n", "yolo11n"])
def test_release_file_state_dict_and_outputs_equal_ultralytics(tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.pt"
    reference = release_file(path, name)
    with pytest.raises(pickle.UnpicklingError):  # the file really holds pickled classes
        torch.load(path, weights_only=True)
    loaded = load_ultralytics_weights(path)
    assert (loaded.family + loaded.scale, loaded.num_classes) == (name, 80) and not loaded.training
    ours, theirs = loaded.state_dict(), reference.state_dict()
    assert list(ours) == list(theirs)
    for key, value in theirs.items():
        assert torch.equal(ours[key], value), key
    x = torch.rand(2, 3, 192, 256, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected, raw = reference(x)
        pred, (boxes, logits) = loaded(x)
    # Ultralytics: (N, 4 + classes, rows) cx, cy, w, h, class scores; akit: (N, rows, 5 + classes), objectness 1
    torch.testing.assert_close(pred[..., :4], expected[:, :4].transpose(1, 2), rtol=1e-5, atol=1e-4)
    torch.testing.assert_close(pred[..., 5:], expected[:, 4:].transpose(1, 2), rtol=1e-5, atol=1e-6)
    assert torch.equal(pred[..., 4], torch.ones_like(pred[..., 4]))
    torch.testing.assert_close(boxes, raw["boxes"], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(logits, raw["scores"], rtol=1e-5, atol=1e-5)
    assert load_ultralytics_weights(path, name).scale == "n"
    other = "yolo11s" if name == "yolov8n" else "yolov8n"
    with pytest.raises(CheckpointError, match=f"is {name}, not {other}; use --detector {name}"):
        load_ultralytics_weights(path, other)


@pytest.mark.parametrize("name", ["yolov8n", "yolo11n"])
def test_person_boxes_equal_ultralytics_predict(tmp_path: Path, shared_data: Path, name: str) -> None:
    ultralytics = pytest.importorskip("ultralytics", exc_type=ImportError)
    from ultralytics.data.augment import LetterBox

    path = tmp_path / f"{name}.pt"
    image = cv2.imread(str(shared_data / "coco" / IMAGE))
    release_file(path, name, calibrate=image)
    assert np.array_equal(ultralytics_letterbox(image, 640), LetterBox(640, auto=False)(image=image))
    conf, iou = 0.25, 0.7  # Ultralytics' predict defaults, which akit's configs carry
    result = ultralytics.YOLO(str(path)).predict(
        image, imgsz=640, conf=conf, iou=iou, classes=[0], rect=False, device="cpu", verbose=False
    )[0]
    theirs = result.boxes.xyxy.numpy()
    detector = load_detector(name, path)
    assert (detector.conf, detector.nms, detector.input_size, detector.max_det) == (conf, iou, 640, 300)
    (dets,) = detector([image])
    assert 5 <= len(theirs) == len(dets), (len(theirs), len(dets))
    order = np.lexsort(theirs.T[::-1])
    np.testing.assert_allclose(dets.boxes[np.lexsort(dets.boxes.T[::-1])], theirs[order], atol=1.0)
    np.testing.assert_allclose(np.sort(dets.scores), np.sort(result.boxes.conf.numpy()), atol=1e-4)
    assert (dets.labels == 0).all()


# --------------------------------------------------------------------------------------------------------------
# Malicious and wrong files


class Payload:
    """Unpickling this calls ``func(*args)``."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def test_malicious_pickles_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for i, payload in enumerate(
        (Payload(os.system, f"touch {marker}"), Payload(builtins.exec, f"open({str(marker)!r}, 'w')"))
    ):
        raw = tmp_path / f"raw{i}.pt"
        raw.write_bytes(pickle.dumps(payload, protocol=2))
        zipped = tmp_path / f"zipped{i}.pt"
        torch.save({"model": payload, "epoch": -1}, zipped)
        for path in (raw, zipped):
            with pytest.raises(CheckpointError, match="refused to unpickle .*: a checkpoint may only hold tensors"):
                load_ultralytics_weights(path, "yolov8n")
    assert not marker.exists()


def test_malicious_object_inside_a_release_model(tmp_path: Path) -> None:
    ultralytics = pytest.importorskip("ultralytics", exc_type=ImportError)
    marker = tmp_path / "pwned"
    model = copy.deepcopy(ultralytics.YOLO("yolov8n.yaml").model).half()
    model.model[2].m[0].cv2.conv.evil = Payload(os.system, f"touch {marker}")
    path = tmp_path / "yolov8n.pt"
    torch.save({"model": model, "ema": None, "epoch": -1}, path)
    with pytest.raises(CheckpointError, match=r"refused to unpickle (posix|nt)\.system") as err:
        load_detector("yolov8n", path)
    assert "\n" not in str(err.value) and not marker.exists()


def _pose(path: Path) -> None:
    keys = ("preact.conv1.weight", "duc1.conv.weight", "conv_out.weight")  # FastPose's stem, DUC head and output
    shapes = ((64, 3, 7, 7), (1024, 512, 3, 3), (17, 128, 3, 3))
    torch.save({key: torch.zeros(shape) for key, shape in zip(keys, shapes, strict=True)}, path)


def _yolov5_release(path: Path) -> None:
    from tests.detectors.test_yolov5 import register_standins, save_like_ultralytics, standin_model

    with pytest.MonkeyPatch.context() as patch:
        save_like_ultralytics(path, standin_model(register_standins(patch), "n"))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_text("experiment notes\n"), "is not a YOLOv8/YOLO11 checkpoint: it is a text file"),
        (lambda p: p.write_bytes(b""), "is not a YOLOv8/YOLO11 checkpoint: it is an empty file"),
        (_pose, "is not a YOLOv8/YOLO11 checkpoint: its weights look like FastPose"),
        (_yolov5_release, r"is a YOLOv5 checkpoint \(the yolov5 repository's models.yolo.DetectionModel\)"),
    ],
    ids=["text", "empty", "pose", "yolov5"],
)
def test_wrong_files_are_one_line(tmp_path: Path, make, message: str) -> None:
    path = tmp_path / "weights.pt"
    make(path)
    with pytest.raises(CheckpointError, match=message) as err:
        load_detector("yolov8n", path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def test_infer_names_a_wrong_file_in_one_line(capsys, tmp_path, shared_data) -> None:
    from alphapose_kit.config import load_config
    from alphapose_kit.models import build_pose_model

    notes = tmp_path / "notes.txt"
    notes.write_text("experiment notes\n")
    pose = tmp_path / "pose.pth"
    torch.save(build_pose_model(load_config("coco/fastpose_res50_256x192")).state_dict(), pose)
    code = main(["infer", str(shared_data / "coco" / IMAGE), "-w", str(pose), "--detector", "yolo11s",
                 "--detector-weights", str(notes), "--device", "cpu"])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("akit: error: ") and err.count("\n") == 1, err
    assert "notes.txt is not a YOLOv8/YOLO11 checkpoint: it is a text file" in err


def test_state_dict_round_trip_and_wrong_scale(tmp_path: Path) -> None:
    model = build_yolov8("yolo11n").eval()
    path = tmp_path / "sd.pth"
    torch.save(model.state_dict(), path)
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.equal(load_ultralytics_weights(path, "yolo11n")(x)[0], model(x)[0])
    with pytest.raises(CheckpointError, match=r"does not fit yolo11s: .*model.0.conv.weight \(16, 3, 3, 3\) in the"):
        load_ultralytics_weights(path, "yolo11s")
    with pytest.raises(CheckpointError, match="plain state_dict; name the model"):
        load_ultralytics_weights(path)


# --------------------------------------------------------------------------------------------------------------
# Zoo, infer, export


def test_zoo_entries() -> None:
    for name in MODEL_NAMES:
        entry = get_entry(name)
        assert entry.kind == "detector" and entry.filename == f"{name}.pt"
        assert entry.urls[0] == f"https://github.com/ultralytics/assets/releases/download/v8.4.0/{name}.pt"
    assert get_entry("yolo11s.pt").name == "yolo11s"


def test_infer_with_yolo11s_from_the_zoo_cache(capsys, tmp_path, shared_data, monkeypatch) -> None:
    from alphapose_kit.config import load_config
    from alphapose_kit.models import build_pose_model

    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    cached = tmp_path / "home" / "weights" / "yolo11s.pt"
    cached.parent.mkdir(parents=True)
    image = str(shared_data / "coco" / IMAGE)
    release_file(cached, "yolo11s", calibrate=cv2.imread(image))
    pose = tmp_path / "pose.pth"
    torch.save(build_pose_model(load_config("coco/fastpose_res50_256x192")).state_dict(), pose)
    out = tmp_path / "out"
    code = main(
        [
            "infer",
            image,
            "-w",
            str(pose),
            "--detector",
            "yolo11s",
            "-o",
            str(out),
            "-q",
            "--device",
            "cpu",
            "--pose-nms",
            "none",
        ]
    )  # fmt: skip  (no pose NMS: one result per box of the random-weights detector)
    assert code == 0, capsys.readouterr().err
    (expected,) = load_detector("yolo11s")([cv2.imread(image)])  # the zoo name means the cached file here too
    results = json.loads((out / "alphapose-results.json").read_text())
    assert len(expected) > 0 and len(results) == len(expected)
    xywh = np.c_[expected.boxes[:, :2], expected.boxes[:, 2:] - expected.boxes[:, :2]]
    np.testing.assert_allclose(np.array(sorted(r["box"] for r in results)), sorted(xywh.tolist()), atol=1e-3)
    assert json.loads((out / "run.json").read_text())["options"]["detector"] == "yolo11s"


def test_export_yolov8n_to_onnx(capsys, tmp_path, shared_data) -> None:
    pytest.importorskip("onnxruntime")
    weights = tmp_path / "yolov8n.pt"
    release_file(weights, "yolov8n", calibrate=cv2.imread(str(shared_data / "coco" / IMAGE)))
    target = tmp_path / "yolov8n.onnx"
    code = main(["export", "--detector", "yolov8n", "--detector-weights", str(weights), "--output", str(target),
                 "--input-size", "320"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert target.is_file() and "box agreement" in captured.out + captured.err
    from alphapose_kit.deploy.runtime import load_detector_backend

    exported = load_detector_backend(target)  # akit infer --detector-model: Ultralytics' letterbox, not AlphaPose's
    assert exported.preprocess == "ultralytics" and (exported.conf, exported.nms, exported.max_det) == (0.25, 0.7, 300)
    image = cv2.imread(str(shared_data / "coco" / IMAGE))
    (ours,) = exported([image])
    (torch_dets,) = load_detector("yolov8n", weights, input_size=320)([image])
    assert len(ours) == len(torch_dets) > 0
    np.testing.assert_allclose(ours.boxes, torch_dets.boxes, atol=0.05)
