"""A wrong file given as detector weights is named in one line (what it is, what is wanted), never a traceback."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from alphapose_kit.cli.app import main
from alphapose_kit.config import load_config
from alphapose_kit.detectors import load_detector
from alphapose_kit.detectors.nets.yolov5 import build_yolov5
from alphapose_kit.errors import CheckpointError
from alphapose_kit.hub.file_kind import DARKNET, EMPTY, ONNX, PICKLE, TEXT, TORCH_ZIP, TORCHSCRIPT, file_kind
from alphapose_kit.models import build_pose_model


def _text(path: Path) -> None:
    path.write_text("experiment notes: lr 1e-3\n")  # 'e' (101) made the unpickler raise KeyError: 101


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _darknet(path: Path) -> None:
    path.write_bytes(struct.pack("<iiiq", 0, 2, 0, 0) + bytes(4000))  # darknet 0.2 header, then zeros


def _pose(path: Path) -> None:
    keys = ("preact.conv1.weight", "duc1.conv.weight", "conv_out.weight")  # FastPose's stem, DUC head and output
    shapes = ((64, 3, 7, 7), (1024, 512, 3, 3), (17, 128, 3, 3))
    torch.save({key: torch.zeros(shape) for key, shape in zip(keys, shapes, strict=True)}, path)


def _cut_yolov5(path: Path) -> None:
    torch.manual_seed(0)
    torch.save(build_yolov5("n").state_dict(), path)
    path.write_bytes(path.read_bytes()[:20_000])


def _cut_legacy(path: Path) -> None:
    torch.save({"model.0.conv.weight": torch.zeros(16, 3, 6, 6)}, path, _use_new_zipfile_serialization=False)
    path.write_bytes(path.read_bytes()[:300])


def _yolov5(path: Path) -> None:
    torch.save(build_yolov5("n").state_dict(), path)


CASES: list[tuple[str, Callable[[Path], None], str, str]] = [
    ("yolov5n", _text, "notes.txt", "is not a YOLOv5 checkpoint: it is a text file"),
    ("yolov5n", _empty, "empty.pt", "is not a YOLOv5 checkpoint: it is an empty file"),
    ("yolov5n", _darknet, "yolov3-spp.weights", "is not a YOLOv5 checkpoint: it is darknet .weights"),
    ("yolov5n", _pose, "fastpose.pth", "is not a YOLOv5 checkpoint: its weights look like FastPose"),
    ("yolov5n", _cut_yolov5, "cut.pt", "is not a YOLOv5 checkpoint: truncated or corrupt"),
    ("yolov5n", _cut_legacy, "cut_legacy.pt", "is not a YOLOv5 checkpoint: truncated or corrupt"),
    ("yolov3-spp", _text, "notes.txt", "is not a darknet .weights file: it is a text file"),
    ("yolov3-spp", _empty, "empty.weights", "is not a darknet .weights file: it is an empty file"),
    ("yolov3-spp", _yolov5, "yolov5n.pt", "is not a darknet .weights file: it is a PyTorch checkpoint"),
    ("yolov3-spp", _pose, "fastpose.pth", "is not a darknet .weights file: it is a PyTorch checkpoint"),
]


@pytest.mark.parametrize(("detector", "make", "name", "message"), CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_wrong_file_is_named_in_one_line(tmp_path, detector, make, name, message) -> None:
    path = tmp_path / name
    make(path)
    with pytest.raises(CheckpointError) as caught:
        load_detector(detector, path)
    text = str(caught.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_infer_with_notes_as_detector_weights(capsys, tmp_path, shared_data) -> None:
    notes = tmp_path / "notes.txt"
    _text(notes)
    pose = tmp_path / "pose.pth"
    torch.save(build_pose_model(load_config("coco/fastpose_res50_256x192")).state_dict(), pose)
    image = str(shared_data / "coco" / "000000000785.jpg")
    code = main(["infer", image, "-w", str(pose), "--detector", "yolov5n", "--detector-weights", str(notes)])
    err = capsys.readouterr().err
    assert code != 0 and err.startswith("akit: error: ") and err.count("\n") == 1, err
    assert "notes.txt is not a YOLOv5 checkpoint: it is a text file" in err


def test_file_kinds_by_their_first_bytes(tmp_path) -> None:
    makers = {TEXT: _text, EMPTY: _empty, DARKNET: _darknet, TORCH_ZIP: _pose}
    for kind, make in makers.items():
        make(tmp_path / kind)
        assert file_kind(tmp_path / kind) == kind
    torch.save({"a": torch.zeros(1)}, tmp_path / "legacy", _use_new_zipfile_serialization=False)
    assert file_kind(tmp_path / "legacy") == PICKLE
    torch.jit.save(torch.jit.script(torch.nn.Linear(2, 2)), str(tmp_path / "script.pt"))
    assert file_kind(tmp_path / "script.pt") == TORCHSCRIPT
    # ONNX ModelProto: field 1 ir_version = 8 (tag 0x08), field 2 producer_name "akit" (tag 0x12, length 4)
    (tmp_path / "m.onnx").write_bytes(b"\x08\x08\x12\x04akit")
    assert file_kind(tmp_path / "m.onnx") == ONNX
