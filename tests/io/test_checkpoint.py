"""Checkpoint reading: accepted layouts, tensor-only loading, and one-line messages for every wrong file."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from alphapose_kit.config import load_config
from alphapose_kit.errors import CheckpointError
from alphapose_kit.io.checkpoint import describe_state_dict, load_into, read_state_dict, unwrap_state_dict
from alphapose_kit.models import build_pose_model
from alphapose_kit.models.loader import load_pose_model


def tiny() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4))


@pytest.mark.parametrize("wrap", ["plain", "state_dict", "model", "module_prefix", "nested"])
def test_accepted_layouts(tmp_path: Path, wrap: str) -> None:
    model = tiny()
    state = model.state_dict()
    obj = {
        "plain": state,
        "state_dict": {"state_dict": state, "epoch": 3},
        "model": {"model": state, "optimizer": {}},
        "module_prefix": {f"module.{k}": v for k, v in state.items()},
        "nested": {"state_dict": {f"module.{k}": v for k, v in state.items()}},
    }[wrap]
    path = tmp_path / "ckpt.pth"
    torch.save(obj, path)
    loaded = read_state_dict(path)
    assert set(loaded) == set(state)
    fresh = tiny()
    load_into(fresh, loaded, "tiny", path)
    for key, value in fresh.state_dict().items():
        assert torch.equal(value, state[key])


def test_missing_truncated_and_not_a_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        read_state_dict(tmp_path / "nope.pth")
    good = tmp_path / "good.pth"
    torch.save(tiny().state_dict(), good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    text = tmp_path / "notes.pth"
    text.write_text("hello, not a checkpoint\n")
    for path in (truncated, text):
        with pytest.raises(CheckpointError) as err:
            read_state_dict(path)
        assert str(path) in str(err.value) and "\n" not in str(err.value)


class _Payload:
    def __reduce__(self):
        return (os.system, (f"touch {_MARKER}",))


_MARKER = ""


def test_pickled_code_never_runs(tmp_path: Path) -> None:
    global _MARKER
    marker = tmp_path / "pwned"
    _MARKER = str(marker)
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": tiny().state_dict(), "extra": _Payload()}, path)
    with pytest.raises(CheckpointError, match="refused to load"):
        read_state_dict(path)
    raw = tmp_path / "evil_raw.pth"
    raw.write_bytes(pickle.dumps(_Payload()))
    with pytest.raises(CheckpointError):
        read_state_dict(raw)
    assert not marker.exists()


def test_no_state_dict_inside() -> None:
    with pytest.raises(CheckpointError, match="no state_dict"):
        unwrap_state_dict({"epoch": torch.tensor(3), "note": "x"} | {"meta": {"a": 1}})


def test_joint_count_mismatch_is_named(tmp_path: Path) -> None:
    cfg26 = load_config("halpe26/fastpose_res50_256x192")
    path = tmp_path / "halpe26.pth"
    torch.save(build_pose_model(cfg26).state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        load_pose_model("coco/fastpose_res50_256x192", path)
    message = str(err.value)
    assert "26 joints" in message and "17" in message and "NUM_JOINTS" in message and "\n" not in message


def test_other_model_names_expected_and_found(tmp_path: Path) -> None:
    path = tmp_path / "simple.pth"
    simple = build_pose_model(load_config("coco/simplepose_res50_256x192"))
    torch.save(simple.state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        load_pose_model("coco/fastpose_res50_256x192", path)
    message = str(err.value)
    assert "FastPose (ResNet-50, 17 joints)" in message  # the expected model
    assert "SimplePose" in message  # what the file looks like
    assert "missing keys (first: suffle1" not in message  # PixelShuffle has no parameters
    assert "unexpected keys (first: deconv_layers" in message and "\n" not in message


def test_round_trip_through_load_pose_model(tmp_path: Path) -> None:
    cfg = load_config("coco/fastpose_res50_256x192")
    model = build_pose_model(cfg).eval()
    path = tmp_path / "fastpose.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in model.state_dict().items()}}, path)
    loaded = load_pose_model(cfg, path)
    assert not loaded.training
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(loaded(x), model(x), atol=1e-6)


def test_describe_state_dict_depth_and_dcn() -> None:
    state = build_pose_model(load_config("coco/fastpose_dcn_res50_256x192")).state_dict()
    assert describe_state_dict(state) == "FastPose (ResNet-50, DCN, 17 joints)"
