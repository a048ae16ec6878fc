"""``akit export`` of a 136-joint Combined network (Halpe-136: heatmap body, integral face and hands): ONNX and INT8
pass the export check, which decodes and compares every one of the K joints."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
import torch

from alphapose_kit.codecs import CombinedCodec
from alphapose_kit.config import load_config
from alphapose_kit.deploy.calibration import person_crops
from alphapose_kit.deploy.exporters import export_pose
from alphapose_kit.deploy.quantize import Int8Options
from alphapose_kit.deploy.verify import TOLERANCES, check_tolerance, compare_heatmaps
from alphapose_kit.errors import AkitError
from alphapose_kit.models.loader import load_pose_model
from tests.deploy.nets import TINY, random_checkpoint
from tests.paths import COCO

CONFIG = "halpe136/fastpose_dcn_res50_combined_256x192"
KEYPOINTS = COCO / "person_keypoints.json"


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return random_checkpoint(tmp_path_factory.mktemp("wb") / "tiny136.pth", CONFIG, TINY)


def test_onnx_export_of_a_136_joint_combined_net(tmp_path, checkpoint) -> None:
    result = export_pose(CONFIG, checkpoint, output=tmp_path / "wb.onnx", dynamic_batch=True, opts=TINY)
    assert result.metadata["loss_type"] == "Combined" and result.comparison.agreement == 1.0
    # independently: ONNX Runtime on the same kind of crops, every joint decoded (26 peaks, 110 soft-argmaxes)
    model = load_pose_model(load_config(CONFIG, TINY), checkpoint, "cpu").eval()
    crops = person_crops(KEYPOINTS, (128, 96), 4).crops
    with torch.inference_mode():
        reference = model(torch.from_numpy(crops)).numpy()
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    exported = session.run(None, {"input": crops})[0]
    assert exported.shape == (4, 136, 32, 24)
    codec = CombinedCodec(136, (128, 96), (32, 24))
    ref_xy, _ = codec.decode(reference)
    onnx_xy, _ = codec.decode(exported)
    assert np.abs(ref_xy - onnx_xy).max() < 1e-3

    # the check covers the integral tail: moving the last (right-hand) joint alone fails it
    moved = reference.copy()
    moved[:, 135] = -10.0
    moved[:, 135, 0, 0] = 10.0  # its soft-argmax goes to the corner
    comparison = compare_heatmaps(reference, moved, "Combined", "sigmoid")
    assert comparison.agreement == pytest.approx(1 - 1 / 136)
    with pytest.raises(AkitError, match="differs from PyTorch"):
        check_tolerance(comparison, TOLERANCES["fp32"], "the onnx export")


def test_int8_export_of_a_136_joint_combined_net(tmp_path, checkpoint) -> None:
    options = Int8Options(calib_size=6, held_out=6, keep_fp32=("conv_out",), bench_rounds=1, bench_batches=(1,))
    result = export_pose(
        CONFIG, checkpoint, output=tmp_path / "wb-int8.onnx", dynamic_batch=True, int8=options, calib=KEYPOINTS,
        opts=TINY,
    )  # fmt: skip
    assert result.path.is_file() and result.comparison.samples == 6
    assert result.comparison.agreement >= TOLERANCES["int8"].min_agreement  # over 6 x 136 joints
    # a COCO-17 calibration file cannot score a 136-joint model: said in the report, not a failed export
    assert "annotates 17 joints and the model predicts 136" in result.report["ap"]["note"]
