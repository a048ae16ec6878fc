"""``verify_weights``: whether a file is a checkpoint at all, which zoo file it is, which network it loads into."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from alphapose_kit.detectors.nets.yolov5 import build_yolov5
from alphapose_kit.engine.weights_report import verify_weights
from alphapose_kit.errors import AkitError
from alphapose_kit.hub import zoo


@pytest.fixture(scope="module")
def yolov5n_state(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("v5") / "state.pt"
    torch.save(build_yolov5("n").state_dict(), path)
    return path


def test_random_bytes_are_not_a_checkpoint(tmp_path: Path) -> None:
    noise = tmp_path / "noise.pth"
    noise.write_bytes(bytes(range(1, 256)) * 64)
    report = verify_weights(noise)
    assert report.format == "none" and not report.ok and report.fits == []
    assert (
        report.problem
        == f"{noise} is not a checkpoint: neither a PyTorch file (zip archive or pickle) nor darknet weights"
    )
    assert report.size == 255 * 64 and report.sha256 == hashlib.sha256(noise.read_bytes()).hexdigest()


def test_a_cut_pytorch_file_says_so(tmp_path: Path, yolov5n_state: Path) -> None:
    cut = tmp_path / "cut.pt"
    cut.write_bytes(yolov5n_state.read_bytes()[:5000])
    report = verify_weights(cut)
    assert report.format == "pytorch" and not report.ok and "truncated or corrupt" in report.problem


def test_unknown_state_dict_loads_into_nothing(tmp_path: Path) -> None:
    path = tmp_path / "mine.pth"
    torch.save({"backbone.conv.weight": torch.zeros(8, 3, 3, 3)}, path)
    report = verify_weights(path)
    assert report.format == "pytorch" and report.tensors == 1 and report.fits == []
    assert report.problem == f"{path} loads into no zoo network (unknown network)"


def test_yolov5_state_dict_is_recognised_by_its_network(tmp_path: Path, yolov5n_state: Path) -> None:
    report = verify_weights(yolov5n_state)
    assert report.ok and report.fits == ["yolov5n"] and report.zoo_entry is None
    assert report.looks_like == "YOLOv5"
    misnamed = tmp_path / "yolov5s.pt"  # a YOLOv5n file under YOLOv5s's zoo name
    misnamed.write_bytes(yolov5n_state.read_bytes())
    report = verify_weights(misnamed)
    assert report.zoo_entry.name == "yolov5s" and report.zoo_match == "name" and not report.ok
    assert "named like zoo model yolov5s but does not load into that network" in report.problem
    assert report.problem.endswith("loads into yolov5n")


def test_darknet_file_of_the_wrong_size(tmp_path: Path) -> None:
    path = tmp_path / "yolov3-spp.weights"
    header = np.array([0, 2, 0], "<i4").tobytes() + np.array([0], "<i8").tobytes()
    path.write_bytes(header + np.zeros(1000, "<f4").tobytes())
    report = verify_weights(path)
    assert report.format == "darknet" and report.zoo_entry.name == "yolov3-spp" and not report.ok
    assert "truncated or for a smaller network" in report.problem


def test_zoo_matches_by_pinned_hash(tmp_path: Path, monkeypatch, yolov5n_state: Path) -> None:
    digest = hashlib.sha256(yolov5n_state.read_bytes()).hexdigest()
    entry = dataclasses.replace(zoo.get_entry("yolov5n"), sha256=digest)
    monkeypatch.setitem(zoo._REGISTRY, "yolov5n", entry)
    report = verify_weights(yolov5n_state)  # renamed, found by its hash
    assert report.zoo_entry.name == "yolov5n" and report.zoo_match == "sha256" and report.ok
    other = tmp_path / "yolov5n.pt"
    torch.save(build_yolov5("n").state_dict(), other)  # other random weights under the pinned name
    report = verify_weights(other)
    assert report.zoo_match == "name, other bytes" and report.ok  # still loads: a fine-tuned copy, say


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AkitError, match="weights file not found"):
        verify_weights(tmp_path / "absent.pth")


def test_yolox_state_dicts_are_recognised_by_their_network(tmp_path: Path) -> None:
    from alphapose_kit.detectors.nets.yolox import build_yolox

    path = tmp_path / "yolox_s.pth"
    torch.save({"model": build_yolox("s").state_dict()}, path)  # the layout of Megvii's release files
    report = verify_weights(path)
    assert report.ok and report.fits == ["yolox-s"] and report.looks_like == "YOLOX"
    assert report.zoo_entry is not None and report.zoo_entry.name == "yolox-s"
    cut = tmp_path / "cut.pth"
    state = build_yolox("tiny").state_dict()
    del state["head.obj_preds.2.bias"]
    torch.save(state, cut)
    report = verify_weights(cut)
    assert not report.ok and report.fits == [] and "loads into no zoo network (YOLOX)" in report.problem
