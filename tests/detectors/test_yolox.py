"""YOLOX: parameter counts by hand against Megvii's published ones, strict loading of its state_dict layout, the
anchor-free decoding on a hand case, AlphaPose's YOLOX input / score rules, and ``akit infer --detector yolox-s``."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.cli.app import main
from alphapose_kit.detectors import YOLODetector, detector_defaults, load_detector
from alphapose_kit.detectors.letterbox import pad_batch, pad_image, unpad_boxes
from alphapose_kit.detectors.nets.yolox import VARIANTS, build_yolox, load_yolox_weights
from alphapose_kit.errors import CheckpointError
from alphapose_kit.hub.zoo import get_entry
from tests.detectors.test_detectors import FixedYOLO, person

# Megvii's README "Params (M)" (thop: every parameter, BatchNorm included)
PUBLISHED_M = {"nano": 0.91, "tiny": 5.06, "s": 9.0, "m": 25.3, "l": 54.2, "x": 99.1}


def _base(c_in: int, c_out: int, k: int, groups: int = 1) -> int:
    return k * k * (c_in // groups) * c_out + 2 * c_out  # bias-free conv + BatchNorm weight and bias


def _conv3(dw: bool, c_in: int, c_out: int) -> int:
    return _base(c_in, c_in, 3, c_in) + _base(c_in, c_out, 1) if dw else _base(c_in, c_out, 3)


def _csp(c_in: int, c_out: int, n: int, dw: bool) -> int:
    h = c_out // 2
    bottleneck = _base(h, h, 1) + _conv3(dw, h, h)
    return 2 * _base(c_in, h, 1) + _base(2 * h, c_out, 1) + n * bottleneck


def hand_count(depth: float, width: float, dw: bool) -> int:
    """The YOLOX parameter count from its layer list (exps + models of the YOLOX repository), by arithmetic."""
    b = int(64 * width)
    n = max(round(3 * depth), 1)
    backbone = _base(12, b, 3)  # Focus: 4 phases x 3 channels
    for c, reps in ((b, n), (2 * b, 3 * n), (4 * b, 3 * n)):
        backbone += _conv3(dw, c, 2 * c) + _csp(2 * c, 2 * c, reps, dw)
    c5 = 16 * b
    backbone += _conv3(dw, 8 * b, c5) + _base(c5, c5 // 2, 1) + _base(c5 // 2 * 4, c5, 1) + _csp(c5, c5, n, dw)
    p3, p4, p5 = int(256 * width), int(512 * width), int(1024 * width)
    m = round(3 * depth)
    neck = _base(p5, p4, 1) + _csp(2 * p4, p4, m, dw) + _base(p4, p3, 1) + _csp(2 * p3, p3, m, dw)
    neck += _conv3(dw, p3, p3) + _csp(2 * p3, p4, m, dw) + _conv3(dw, p4, p4) + _csp(2 * p4, p5, m, dw)
    hid = int(256 * width)
    head = sum(_base(c, hid, 1) for c in (p3, p4, p5)) + 3 * (4 * _conv3(dw, hid, hid) + (hid + 1) * (80 + 4 + 1))
    return backbone + neck + head


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_parameter_counts_by_hand_and_published(variant: str) -> None:
    depth, width, dw = VARIANTS[variant]
    expected = hand_count(depth, width, dw)
    with torch.device("meta"):
        model = build_yolox(variant)
    assert sum(p.numel() for p in model.parameters()) == expected
    published = PUBLISHED_M[variant]
    digits = len(str(published).split(".")[1])
    assert round(expected / 1e6, digits) == published


def test_a_saved_state_dict_loads_strictly_and_a_wrong_one_is_one_line(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = build_yolox("nano")
    official = tmp_path / "yolox_nano.pth"
    torch.save({"start_epoch": 300, "model": model.state_dict()}, official)  # the layout of Megvii's files
    loaded = load_yolox_weights(official, "nano")
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key
    assert "backbone.backbone.dark2.0.dconv.conv.weight" in model.state_dict()  # nano: depthwise
    assert "head.obj_preds.2.bias" in model.state_dict()
    with pytest.raises(CheckpointError) as err:
        load_yolox_weights(official, "tiny")
    assert "YOLOX-tiny" in str(err.value) and "\n" not in str(err.value)


def test_decoding_on_a_hand_case() -> None:
    model = build_yolox("nano")
    head = model.head
    with torch.no_grad():
        for conv in (*head.reg_preds, *head.obj_preds, *head.cls_preds):
            conv.weight.zero_()
        for conv in head.reg_preds:
            conv.bias.copy_(torch.tensor([0.5, 0.25, float(np.log(2.0)), 0.0]))
        for conv in head.obj_preds:
            conv.bias.fill_(0.0)  # sigmoid 0.5
        for conv in head.cls_preds:
            conv.bias.fill_(float(np.log(3.0)))  # sigmoid 0.75
        out = model(torch.zeros(1, 3, 64, 96))
    assert out.shape == (1, 8 * 12 + 4 * 6 + 2 * 3, 85)
    first = out[0, 0]  # stride 8, cell (0, 0): (0.5 + 0) * 8, (0.25 + 0) * 8, 2 * 8, 1 * 8
    np.testing.assert_allclose(first[:6].numpy(), [4.0, 2.0, 16.0, 8.0, 0.5, 0.75], rtol=1e-6)
    row = 8 * 12 + 1 * 6 + 3  # stride 16, grid row 1, column 3
    np.testing.assert_allclose(out[0, row, :4].numpy(), [3.5 * 16, 1.25 * 16, 32.0, 16.0], rtol=1e-6)


def test_input_is_top_left_padded_bgr_0_255() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (50, 100, 3), dtype=np.uint8)  # h 50, w 100
    padded = pad_image(image, 64)  # r = min(64 / 50, 64 / 100) = 0.64 -> 64 x 32
    np.testing.assert_array_equal(padded[:32], cv2.resize(image, (64, 32), interpolation=cv2.INTER_LINEAR))
    assert (padded[32:] == 114).all()
    tensor = pad_batch([image], 64)
    assert tensor.dtype == torch.float32 and tensor.shape == (1, 3, 64, 64)
    np.testing.assert_array_equal(tensor[0].permute(1, 2, 0).numpy(), padded.astype(np.float32))  # BGR, unscaled
    boxes = unpad_boxes(np.array([[6.4, 3.2, 32.0, 16.0], [-3.0, 10.0, 70.0, 40.0]], np.float32), 100, 50, 64)
    np.testing.assert_allclose(boxes, [[10, 5, 50, 25], [0, 15.625, 100, 50]], rtol=1e-6)


def test_alphapose_yolox_scores() -> None:
    rows = [
        person(10, 10, 8, 8, 0.5, (0.3, 0.1, 0.1)),  # 0.15 >= 0.1: kept, score passed on = objectness 0.5
        person(30, 10, 8, 8, 0.9, (0.1, 0.05, 0.0)),  # 0.09 < 0.1 although objectness > conf: dropped
        person(50, 30, 8, 8, 0.12, (0.9, 0.1, 0.1)),  # 0.108: kept
        person(11, 10.5, 8, 8, 0.45, (0.9, 0.1, 0.1)),  # 0.405: suppresses the first box (IoU 52.5 / 75.5 > 0.6)
    ]
    settings = {**detector_defaults("yolox-s"), "input_size": 64}
    assert (settings["conf"], settings["nms"], detector_defaults("yolox-s")["input_size"]) == (0.1, 0.6, 640)
    detector = YOLODetector(FixedYOLO(rows), **settings)
    (dets,) = detector([np.zeros((64, 64, 3), np.uint8)])
    np.testing.assert_allclose(dets.scores, [0.45, 0.12], rtol=1e-6)  # NMS order: 0.405 then 0.108
    np.testing.assert_allclose(dets.boxes, [[7, 6.5, 15, 14.5], [46, 26, 54, 34]])


def test_zoo_and_aliases() -> None:
    for size in VARIANTS:
        entry = get_entry(f"yolox-{size}")
        assert entry.kind == "detector" and entry.filename == f"yolox_{size}.pth"
        assert entry.urls == (
            f"https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_{size}.pth",
        )
    assert get_entry("yolox_s.pth").name == "yolox-s"


def test_infer_with_yolox_s(capsys, tmp_path, shared_data) -> None:
    from alphapose_kit.config import load_config
    from alphapose_kit.models import build_pose_model

    torch.manual_seed(0)
    detector = build_yolox("s")
    with torch.no_grad():
        for conv in detector.head.obj_preds:
            conv.bias.fill_(-30.0)  # no box passes conf 0.1: the run checks the path, not random boxes' poses
    weights = tmp_path / "yolox_s.pth"
    torch.save({"model": detector.state_dict()}, weights)
    with pytest.raises(CheckpointError, match="YOLOX-x"):  # "yolox" is AlphaPose's name for YOLOX-x
        load_detector("yolox", weights)
    pose = tmp_path / "pose.pth"
    torch.save(build_pose_model(load_config("coco/fastpose_res50_256x192")).state_dict(), pose)
    out = tmp_path / "out"
    image = str(shared_data / "coco" / "000000000785.jpg")
    code = main(["infer", image, "-w", str(pose), "--detector", "yolox-s", "--detector-weights", str(weights),
                 "-o", str(out), "-q", "--device", "cpu"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert json.loads((out / "alphapose-results.json").read_text()) == []
    assert json.loads((out / "run.json").read_text())["options"]["detector"] == "yolox-s"


def test_boxes_map_back_with_alphapose_s_float32_scale() -> None:
    """AlphaPose divides by ``torch.min(inp_dim / orig_dim_list)``: torch evaluates an int over a float32 tensor as
    reciprocal times the int, 1.28000009 for 640 / 500 where float32 640 / 500 is 1.27999997."""
    from alphapose_kit.detectors.letterbox import alphapose_scale

    for width, height in ((500, 333), (640, 427), (333, 500), (1920, 1080), (612, 612)):
        expected = torch.min(640 / torch.FloatTensor([width, height])).item()
        assert float(alphapose_scale(width, height, 640)) == expected
    assert float(alphapose_scale(500, 333, 640)) == pytest.approx(1.28000009059906, abs=0) != np.float32(1.28)
    x2 = np.float32(520.3759155273438)
    (box,) = unpad_boxes(np.array([[0, 0, x2, 10]], np.float32), 500, 333, 640)
    assert box[2] == x2 / np.float32(torch.min(640 / torch.FloatTensor([500, 333])).item())  # 406.54364, not ...70
    # the YOLOv3 letterbox's inverse uses the same scale: offsets (S - f w) / 2, (S - f h) / 2, then / f, in torch
    from alphapose_kit.detectors.letterbox import unletterbox_boxes

    dims = torch.FloatTensor([[500, 333, 500, 333]])
    f = torch.min(608 / dims, 1)[0].view(-1, 1)
    dets = torch.tensor([[100.0, 150.0, 520.3759, 300.0]])
    dets[:, [0, 2]] -= (608 - f * dims[:, 0].view(-1, 1)) / 2
    dets[:, [1, 3]] -= (608 - f * dims[:, 1].view(-1, 1)) / 2
    dets /= f
    mapped = unletterbox_boxes(np.array([[100.0, 150.0, 520.3759, 300.0]], np.float32), 500, 333, 608)
    np.testing.assert_array_equal(mapped, dets.clamp(min=0).numpy().clip(max=[500, 333, 500, 333]))


@pytest.mark.parametrize("variant", ["nano", "s"])
def test_the_original_s_network_outputs_and_boxes(variant: str) -> None:
    """tests/golden/yolox_golden.npz: AlphaPose's own YOLOXDetector (its Exp's model, preprocessing, post-processing
    with the re-NMS of more than 100 boxes, mapping back) on the same weights and shared images."""
    from tests.detectors.yolox_golden import IMAGES, ROW_STEP, golden_state
    from tests.paths import COCO, GOLDEN

    golden = np.load(GOLDEN / "yolox_golden.npz")
    model = build_yolox(variant)
    model.load_state_dict(golden_state(variant, model.state_dict()), strict=True)
    settings = {**detector_defaults(f"yolox-{variant}"), "batch_size": 1, "legacy_batch_renms": True}
    detector = YOLODetector(model, **settings)
    for name in IMAGES:
        key = f"{variant}__{Path(name).stem}"
        image = cv2.imread(str(COCO / name))
        rows = detector.forward([image])[0].double()
        np.testing.assert_allclose(rows[::ROW_STEP].numpy(), golden[f"{key}__rows"], rtol=1e-4, atol=1e-3)
        np.testing.assert_allclose(rows.sum(0).numpy(), golden[f"{key}__sum"], rtol=1e-5)
        np.testing.assert_allclose((rows * rows).sum(0).numpy(), golden[f"{key}__sum_sq"], rtol=1e-5)
        (dets,) = detector([image])
        assert len(dets) == len(golden[f"{key}__boxes"]) > 0, key
        np.testing.assert_allclose(dets.boxes, golden[f"{key}__boxes"], atol=1e-3)
        np.testing.assert_allclose(dets.scores, golden[f"{key}__scores"], rtol=1e-5)
