"""akit's exports end to end on real people: ONNX / TorchScript / fp16, checked against PyTorch, loadable by
``load_backend`` and run by the unchanged pipeline; DCN through ONNX DeformConv; detectors; failures leave nothing."""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

from alphapose_kit.deploy.exporters import export_detector, export_pose
from alphapose_kit.deploy.metadata import read_metadata
from alphapose_kit.deploy.runtime import OnnxRuntimeNetwork, TorchScriptNetwork, load_backend, load_detector_backend
from alphapose_kit.deploy.verify import candidate_agreement
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.errors import AkitError
from alphapose_kit.models.loader import load_pose_model
from tests.deploy.nets import COCO_CFG, SMALL, TINY, random_checkpoint
from tests.paths import COCO

KEYPOINTS = COCO / "person_keypoints.json"


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pth")


@pytest.fixture(scope="module")
def detfile(tmp_path_factory):
    records = [r for r in json.loads((COCO / "person_detections.json").read_text()) if r["score"] >= 0.5]
    path = tmp_path_factory.mktemp("det") / "dets.json"
    path.write_text(json.dumps(records))
    return path


@pytest.fixture(scope="module")
def tiny_onnx(tmp_path_factory, tiny_ckpt):
    out = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    return export_pose(COCO_CFG, tiny_ckpt, output=out, dynamic_batch=True, opts=TINY)


def _run(pipeline: PosePipeline) -> list:
    return list(pipeline.run(str(COCO)))


def test_onnx_export_matches_torch_and_carries_metadata(tiny_onnx) -> None:
    result = tiny_onnx
    assert result.path.is_file() and result.metadata["precision"] == "fp32"
    assert result.comparison.samples == 12 and result.comparison.agreement == 1.0
    assert result.comparison.max_abs_error < 1e-4 * max(1.0, result.comparison.reference_max)
    meta = read_metadata(result.path)
    assert meta["input_size"] == [128, 96] and meta["dynamic_batch"] and meta["opset"] == 19
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].name == "input" and not isinstance(session.get_inputs()[0].shape[0], int)
    assert not list(result.path.parent.glob(".*tmp*")), "no temporary file left behind"


def test_pipeline_on_onnx_gives_the_torch_json(tiny_onnx, tiny_ckpt, detfile) -> None:
    network, cfg = load_backend(tiny_onnx.path)
    assert isinstance(network, OnnxRuntimeNetwork)
    exported = _run(PosePipeline(cfg, pose_model=network, detfile=str(detfile), device="cpu"))
    reference = _run(PosePipeline(cfg, tiny_ckpt, detfile=str(detfile), device="cpu"))
    assert sum(r.num_people for r in reference) > 0
    for a, b in zip(reference, exported, strict=True):
        assert a.image_id == b.image_id and a.num_people == b.num_people
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=1e-2)
        np.testing.assert_allclose(a.keypoint_scores, b.keypoint_scores, atol=1e-4)


def test_static_batch_onnx_runs_any_batch(tmp_path, tiny_ckpt) -> None:
    result = export_pose(COCO_CFG, tiny_ckpt, output=tmp_path, opts=TINY)
    assert result.path.name == "fastpose_res50_256x192.onnx"
    network = OnnxRuntimeNetwork(result.path)
    assert network.fixed_batch == 1
    model = load_pose_model(load_backend(result.path)[1], tiny_ckpt)
    crops = torch.randn(5, 3, 128, 96)
    with torch.no_grad():
        np.testing.assert_allclose(network(crops).numpy(), model(crops).numpy(), atol=1e-4)


def test_torchscript_export(tmp_path, tiny_ckpt) -> None:
    result = export_pose(COCO_CFG, tiny_ckpt, fmt="torchscript", output=tmp_path / "tiny.pt", opts=TINY)
    network, cfg = load_backend(result.path, "torchscript")
    assert isinstance(network, TorchScriptNetwork) and list(cfg.DATA_PRESET.IMAGE_SIZE) == [128, 96]
    model = load_pose_model(cfg, tiny_ckpt)
    crops = torch.randn(3, 3, 128, 96)  # traced on one crop, run on three
    with torch.no_grad():
        np.testing.assert_allclose(network(crops).numpy(), model(crops).numpy(), atol=1e-5)


def test_half_onnx_export(tmp_path, tiny_ckpt) -> None:
    result = export_pose(COCO_CFG, tiny_ckpt, half=True, output=tmp_path, opts=TINY)
    assert result.path.name.endswith("-fp16.onnx") and result.metadata["precision"] == "fp16"
    assert OnnxRuntimeNetwork(result.path).input_dtype == np.float16
    assert result.comparison.agreement >= 0.95


class _Branchy(torch.nn.Module):
    """Python control flow on the batch size: tracing on one crop records one branch, batches take the other."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 17, 3, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv(x)
        return out if x.shape[0] == 1 else -3 * out


def test_failed_check_leaves_nothing(tmp_path) -> None:
    target = tmp_path / "branchy.pt"
    with pytest.raises(AkitError, match="nothing written"):
        export_pose(COCO_CFG, fmt="torchscript", output=target, opts=SMALL, model=_Branchy())
    assert list(tmp_path.iterdir()) == []


def test_dcn_exports_as_onnx_deformconv(tmp_path) -> None:
    dcn = "coco/fastpose_dcn_res50_256x192"
    with pytest.raises(AkitError, match=r"DeformConv \(DCN\) cannot be exported at opset 17; it needs --opset 19"):
        export_pose(dcn, output=tmp_path / "dcn.onnx", opset=17, opts=SMALL)
    assert not (tmp_path / "dcn.onnx").exists()
    torch.manual_seed(0)
    result = export_pose(dcn, output=tmp_path / "dcn.onnx", opts=SMALL)
    import onnx

    ops = {node.op_type for node in onnx.load(str(result.path)).graph.node}
    assert "DeformConv" in ops and result.comparison.agreement >= 0.99


def test_argument_errors_before_any_work(tmp_path) -> None:
    with pytest.raises(AkitError, match="--int8 needs --format onnx"):
        export_pose(COCO_CFG, fmt="torchscript", int8=object(), output=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(AkitError, match="unknown format"):
        export_pose(COCO_CFG, fmt="tflite", output=tmp_path)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(AkitError, match="not writable|cannot be created"):
        export_pose(COCO_CFG, output=blocker / "sub" / "m.onnx")
    with pytest.raises(AkitError, match="has another suffix"):
        export_pose(COCO_CFG, output=tmp_path / "m.pt")
    with pytest.raises(AkitError, match="--opset must be between"):
        export_pose(COCO_CFG, opset=99, output=tmp_path, opts=TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_yolov5_detector_export(tmp_path) -> None:
    from alphapose_kit.detectors import load_detector
    from alphapose_kit.detectors.nets.yolov5 import build_yolov5

    torch.manual_seed(0)
    weights = tmp_path / "yolov5n.pt"
    net = build_yolov5("n")
    with torch.no_grad():  # a random YOLOv5 head scores almost nothing: make every anchor a likely person
        for conv in net.model[-1].m:
            conv.bias.zero_()
            conv.bias.view(3, -1)[:, 4:6] = 3.0  # objectness and person logits
    torch.save(net.state_dict(), weights)
    result = export_detector("yolov5n", weights, output=tmp_path / "det.onnx", input_size=128, dynamic_batch=True)
    assert result.metadata["kind"] == "detector" and result.comparison.agreement >= 0.99
    assert result.comparison.max_abs_error <= 1e-3 * result.comparison.reference_max
    detector = load_detector_backend(result.path, conf=0.01)
    reference = load_detector("yolov5n", weights, input_size=128, conf=0.01)
    import cv2

    frames = [cv2.imread(str(p)) for p in sorted(COCO.glob("*.jpg"))[:2]]
    assert detector.input_size == 128 and detector.score == reference.score
    exported, original = detector.forward(frames).numpy(), reference.forward(frames).numpy()
    np.testing.assert_allclose(exported, original, atol=1e-2)
    agreement, _, counted = candidate_agreement(original, exported, reference.conf, reference.score)
    assert counted > 100 and agreement >= 0.99
    found = detector(frames)
    assert [len(d) > 0 for d in found] == [True, True]
    with pytest.raises(AkitError, match="exported for input size 128"):
        load_detector_backend(result.path, input_size=640)
    with pytest.raises(AkitError, match="is a detector model"):
        load_backend(result.path)


def test_yolov3_spp_detector_export(tmp_path) -> None:
    from alphapose_kit.detectors.nets.darknet import save_darknet_weights
    from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp

    torch.manual_seed(0)
    weights = save_darknet_weights(build_yolov3_spp(), tmp_path / "spp.weights")
    result = export_detector("yolov3-spp", weights, fmt="torchscript", output=tmp_path / "spp.pt", input_size=128)
    assert result.metadata["detector_settings"]["score"] == "objectness" and result.comparison.agreement >= 0.99
    detector = load_detector_backend(result.path)
    assert isinstance(detector.model, TorchScriptNetwork) and detector.legacy_box_plus1


@pytest.mark.parametrize(
    "config",
    ["coco/fastpose_duc_shuffle_res50_256x192", "coco/simplepose_res50_256x192", "coco/hrnet_w32_256x192"],
)
def test_every_pose_family_exports(tmp_path, config) -> None:
    torch.manual_seed(0)  # random weights: PixelUnshuffle trunk + DUC stages, deconvolutions, HRNet's fusions
    result = export_pose(config, output=tmp_path / "m.onnx", dynamic_batch=True, opts=SMALL)
    assert result.comparison.agreement == 1.0
    assert read_metadata(result.path)["model"] == result.metadata["model"]
