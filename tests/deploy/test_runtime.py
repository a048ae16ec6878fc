"""load_backend's choices and one-line errors; the torch backend; exported files as pipeline networks."""

from __future__ import annotations

import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.deploy.runtime import backend_of, load_backend, load_detector_backend, load_network
from alphapose_kit.errors import AkitError
from tests.deploy.nets import COCO_CFG, TINY, random_checkpoint


def _plain_onnx(path) -> None:
    """A conv exported without akit's metadata."""
    torch.onnx.export(torch.nn.Conv2d(3, 17, 3, 4, 1), (torch.randn(1, 3, 128, 96),), str(path), dynamo=False)


def test_backend_by_suffix() -> None:
    assert backend_of("m.onnx") == "onnxruntime"
    assert backend_of("m.pt") == backend_of("m.torchscript") == "torchscript"
    assert backend_of("coco/fastpose_res50_256x192") == backend_of("my.yaml") == "torch"


def test_torch_backend_is_load_pose_model(tmp_path) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    network, cfg = load_backend(COCO_CFG, "torch", checkpoint=ckpt, config=load_config(COCO_CFG, TINY))
    assert isinstance(network, torch.nn.Module) and not network.training
    assert network(torch.randn(1, 3, 128, 96)).shape == (1, 17, 32, 24)
    assert cfg.MODEL.TYPE == "TinyDUCDeployTest"


def test_one_line_errors(tmp_path) -> None:
    plain = tmp_path / "plain.onnx"
    _plain_onnx(plain)
    with pytest.raises(AkitError, match="has no akit metadata .* pass --cfg"):
        load_backend(plain)
    network, cfg = load_backend(plain, config=load_config(COCO_CFG, TINY))  # a config makes it usable
    assert network(torch.randn(2, 3, 128, 96)).shape == (2, 17, 32, 24) and cfg.MODEL.TYPE == "TinyDUCDeployTest"
    with pytest.raises(AkitError, match="--backend torchscript needs a TorchScript file"):
        load_backend(plain, "torchscript")
    with pytest.raises(AkitError, match="unknown backend 'tensorrt'"):
        load_backend(plain, "tensorrt")
    with pytest.raises(AkitError, match="--checkpoint does not apply"):
        load_backend(plain, checkpoint="w.pth")
    with pytest.raises(AkitError, match="not an exported model"):
        load_network(tmp_path / "model.yaml")
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"nonsense")
    with pytest.raises(AkitError, match="ONNX Runtime cannot load"):
        load_network(broken)
    with pytest.raises(AkitError, match="--detector-model takes a detector"):
        load_detector_backend(plain)
