"""The detector factory (its own module, the package's public names unchanged) and the device: resolved once, above,
and passed down as a torch.device that nothing below resolves again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

import alphapose_kit.detectors as detectors
from alphapose_kit.config import load_config
from alphapose_kit.detectors import factory
from alphapose_kit.detectors.nets.yolov5 import build_yolov5
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.models import build_pose_model
from alphapose_kit.utils import device as device_module


@pytest.fixture
def resolutions(monkeypatch) -> list[object]:
    """Every call of resolve_device, wherever a module imported it from (the real function still answers)."""
    calls: list[object] = []
    real = device_module.resolve_device

    def counting(device: object = "auto") -> torch.device:
        calls.append(device)
        return real(device)  # type: ignore[arg-type]

    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("alphapose_kit") and hasattr(module, "resolve_device"):
            monkeypatch.setattr(module, "resolve_device", counting)
    return calls


@pytest.fixture(scope="module")
def yolov5n_file(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("v5") / "yolov5n_random.pt"
    torch.save(build_yolov5("n").state_dict(), path)
    return path


def test_public_names_come_from_the_factory() -> None:
    for name in ("DETECTOR_NAMES", "detector_defaults", "detector_weights", "load_detector"):
        assert getattr(detectors, name) is getattr(factory, name)
    assert "def load_detector" not in Path(detectors.__file__).read_text()


def test_a_torch_device_is_passed_down_unresolved(resolutions, yolov5n_file) -> None:
    cpu = torch.device("cpu")
    detector = detectors.load_detector("yolov5n", yolov5n_file, device=cpu)
    assert resolutions == [] and detector.device == cpu
    assert next(detector.model.parameters()).device == cpu
    detectors.load_detector("yolov5n", yolov5n_file, device="cpu")  # a library caller's string: resolved, once
    assert resolutions == ["cpu"]


def test_the_pipeline_resolves_its_device_once(resolutions, tmp_path, yolov5n_file) -> None:
    cfg = load_config("coco/fastpose_res50_256x192", ["DATA_PRESET.IMAGE_SIZE", "[128,96]"])
    pose = tmp_path / "pose.pth"
    torch.save(build_pose_model(cfg).state_dict(), pose)
    pipeline = PosePipeline(cfg, pose, detector="yolov5n", detector_weights=str(yolov5n_file), device="cpu")
    assert resolutions == ["cpu"]  # PosePipeline's; the detector and pose loaders take its torch.device
    assert pipeline.detector.device == pipeline.device == torch.device("cpu")
