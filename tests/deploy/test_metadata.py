"""Metadata embedded in exported files: written, read back without loading the network, and turned into a config."""

from __future__ import annotations

import onnx
import pytest
import torch
from onnx import TensorProto, helper

from alphapose_kit.config import load_config
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.deploy.metadata import (
    EXTRA_FILE,
    config_from_metadata,
    embed_onnx,
    pose_metadata,
    read_metadata,
    to_json,
)
from alphapose_kit.errors import AkitError
from tests.deploy.nets import COCO_CFG, SMALL


def _identity_onnx(path, metadata=None) -> None:
    node = helper.make_node("Identity", ["input"], ["heatmaps"])
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3])],
        [helper.make_tensor_value_info("heatmaps", TensorProto.FLOAT, [1, 3])],
    )
    model = helper.make_model(graph)
    if metadata is not None:
        embed_onnx(model, metadata)
    onnx.save(model, str(path))


def test_pose_metadata_fields() -> None:
    cfg = load_config(COCO_CFG, SMALL)
    meta = pose_metadata(cfg, precision="fp32", fmt="onnx", dynamic_batch=True, opset=19)
    assert meta["input_size"] == [128, 96] and meta["heatmap_size"] == [32, 24]
    assert meta["normalization"]["mean"] == [0.406, 0.457, 0.480] and meta["normalization"]["std"] == [1, 1, 1]
    assert meta["keypoint_set"]["name"] == "coco17"
    assert [tuple(p) for p in meta["keypoint_set"]["flip_pairs"]] == list(COCO17.flip_pairs)
    assert meta["loss_type"] == "MSELoss" and meta["opset"] == 19
    from alphapose_kit import __version__

    assert meta["akit_version"] == __version__


def test_onnx_round_trip_and_config(tmp_path) -> None:
    cfg = load_config(COCO_CFG, SMALL)
    meta = pose_metadata(cfg, precision="int8", fmt="onnx", dynamic_batch=False)
    path = tmp_path / "m.onnx"
    _identity_onnx(path, meta)
    assert read_metadata(path) == meta
    back = config_from_metadata(meta)
    assert list(back.DATA_PRESET.IMAGE_SIZE) == [128, 96]
    assert back.MODEL.TYPE == cfg.MODEL.TYPE and back.MODEL.NUM_LAYERS == cfg.MODEL.NUM_LAYERS


def test_torchscript_round_trip(tmp_path) -> None:
    meta = pose_metadata(load_config(COCO_CFG), precision="fp32", fmt="torchscript", dynamic_batch=True)
    path = tmp_path / "m.pt"
    torch.jit.save(torch.jit.script(torch.nn.Identity()), str(path), _extra_files={EXTRA_FILE: to_json(meta)})
    assert read_metadata(path) == meta


def test_embedded_custom_keypoint_set_is_registered() -> None:
    cfg = load_config(COCO_CFG, SMALL)
    meta = pose_metadata(cfg, precision="fp32", fmt="onnx", dynamic_batch=False)
    meta["keypoint_set"] = {**meta["keypoint_set"], "name": "deploy_test_set"}
    back = config_from_metadata(meta)
    from alphapose_kit.data.keypoints import keypoint_set_of

    assert keypoint_set_of(back).name == "deploy_test_set"
    assert keypoint_set_of(back).flip_pairs == COCO17.flip_pairs
    meta["keypoint_set"]["flip_pairs"] = [[1, 2]]  # same name, different set: refused
    with pytest.raises(AkitError, match="differs"):
        config_from_metadata(meta)


def test_files_without_or_with_broken_metadata(tmp_path) -> None:
    plain = tmp_path / "plain.onnx"
    _identity_onnx(plain)
    assert read_metadata(plain) is None
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\x00\x01 not a model")
    with pytest.raises(AkitError, match="not an ONNX or TorchScript"):
        read_metadata(garbage)
    with pytest.raises(AkitError, match="not found"):
        read_metadata(tmp_path / "missing.onnx")
    detector_meta = {"kind": "detector", "model": "yolov5n"}
    with pytest.raises(AkitError, match="not a pose model"):
        config_from_metadata(detector_meta)
