"""scripts/model_stats.py: FLOPs counted as derived by hand, and its table row for one model (FastPose, via --only).

Every number here is derived independently of the model code: parameters from the architecture facts
(tests/models/test_resnet_family.py), FLOPs as 2 x multiply-adds of every convolution and linear layer.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch
from torch import nn

from alphapose_kit.models.dcn import DeformConv2d
from tests.models.test_resnet_family import FASTPOSE_HEAD_128_K17, R50_TRUNK, SE
from tests.paths import SCRIPTS

spec = importlib.util.spec_from_file_location("model_stats", SCRIPTS / "model_stats.py")
assert spec is not None and spec.loader is not None
model_stats = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model_stats)


class OffsetAndDeform(nn.Module):
    """A DCN unit as AlphaPose's blocks have it: a 3x3 conv predicts 18 offsets, a deformable 3x3 conv uses them."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.offset = nn.Conv2d(cin, 18, 3, stride=stride, padding=1)
        self.conv = DeformConv2d(cin, cout, 3, stride=stride, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x, self.offset(x))


def test_flops_of_conv_linear_and_deformable_conv_by_hand() -> None:
    x = torch.zeros(2, 4, 9, 7)  # stride 2, pad 1 -> 5 x 4 outputs
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1)
    assert model_stats.count_gflops(conv, x) * 1e9 == 2 * (2 * 6 * 5 * 4) * (4 * 3 * 3)  # bias adds not counted
    linear = nn.Sequential(nn.Flatten(), nn.Linear(4 * 9 * 7, 10))
    assert model_stats.count_gflops(linear, x) * 1e9 == 2 * 2 * 10 * (4 * 9 * 7)
    dcn = OffsetAndDeform(4, 6, 2)
    offset_flops = 2 * (2 * 18 * 5 * 4) * (4 * 3 * 3)
    deform_flops = 2 * (2 * 6 * 5 * 4) * (4 * 3 * 3)  # counted as the dense conv it generalises
    assert model_stats.count_gflops(dcn, x) * 1e9 == offset_flops + deform_flops


def fastpose_r50_flops(h: int, w: int, joints: int = 17) -> int:
    """FLOPs of FastPose SE-ResNet-50 (conv_dim 128) on one h x w crop: 2 x the multiply-adds of every layer."""
    macs = 64 * 3 * 49 * (h // 2) * (w // 2)  # stem 7x7 stride 2, then max-pool to h/4 x w/4
    hw, cin = (h // 4) * (w // 4), 64
    for stage, (blocks, p) in enumerate(zip((3, 4, 6, 3), (64, 128, 256, 512), strict=True)):
        out_hw = hw // 4 if stage else hw  # the stride sits on conv2 of block 0 (and on the downsample)
        for b in range(blocks):
            macs += cin * p * (hw if b == 0 else out_hw)  # conv1 1x1 (before the stride)
            macs += p * p * 9 * out_hw + p * 4 * p * out_hw  # conv2 3x3, conv3 1x1
            if b == 0:
                macs += cin * 4 * p * out_hw + 2 * (4 * p) ** 2  # downsample 1x1; SE's two linear layers
            cin = 4 * p
        hw = out_hw
    # head: PixelShuffle(2) -> 512 ch at 2x; DUC 512 -> 1024 3x3, shuffle; DUC 256 -> 512 3x3, shuffle; conv_out
    hw *= 4
    macs += 512 * 1024 * 9 * hw
    hw *= 4
    macs += 256 * 512 * 9 * hw
    hw *= 4
    macs += 128 * joints * 9 * hw
    return 2 * macs


def test_table_row_for_fastpose(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["model_stats.py", "--only", "fastpose_res50_256x192"])
    model_stats.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[:2] == [
        "| model | kind | keypoints | AP | input | params (M) | GFLOPs |",
        "|---|---|---|---:|---|---:|---:|",
    ]
    assert len(lines) == 3
    name, kind, joints, ap, size, params, gflops = (cell.strip() for cell in lines[2].strip("|").split("|"))
    assert (name, kind, joints, ap, size) == ("fastpose_res50_256x192", "pose", "coco17 (17)", "72.0", "256x192")
    assert params == f"{(R50_TRUNK + SE + FASTPOSE_HEAD_128_K17) / 1e6:.2f}" == "40.58"
    assert gflops == f"{fastpose_r50_flops(256, 192) / 1e9:.2f}"


def test_unknown_model_name_is_refused(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["model_stats.py", "--only", "fastpose_res51"])
    with pytest.raises(SystemExit) as exit_info:
        model_stats.main()
    assert exit_info.value.code == 2
    assert "fastpose_res51" in capsys.readouterr().err
