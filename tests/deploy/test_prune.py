"""Structured pruning: PixelShuffle / PixelUnshuffle channel blocks cut exactly (checked on networks whose cut
channels are zero, so the output must not change), real FastPose FLOPs, DCN offsets kept, the saved YAML + tensor
checkpoint reloading through load_pose_model."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config
from alphapose_kit.deploy.prune import count_macs, kept_blocks, prune_network, prune_pose
from alphapose_kit.errors import AkitError
from alphapose_kit.models.loader import load_pose_model
from alphapose_kit.models.widths import apply_widths, parse_widths
from tests.deploy.nets import COCO_CFG, SMALL, TINY, random_checkpoint
from tests.paths import COCO


class _ShuffleHead(nn.Module):
    """conv (16 = 4 blocks of 4 channels) -> BN -> ReLU -> PixelShuffle(2) -> 1x1 head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.ps = nn.PixelShuffle(2)
        self.head = nn.Conv2d(4, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.ps(torch.relu(self.bn(self.conv(x)))))


class _UnshuffleStem(nn.Module):
    """conv (4 channels) -> ReLU -> PixelUnshuffle(2) (channel c -> 4c..4c+3) -> conv."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.unshuffle = nn.PixelUnshuffle(2)
        self.head = nn.Conv2d(16, 5, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.unshuffle(torch.relu(self.conv(x))))


def test_pixel_shuffle_blocks_are_cut_whole() -> None:
    torch.manual_seed(0)
    net = _ShuffleHead().eval()
    with torch.no_grad():
        for block in (1, 3):  # channels 4-7 and 12-15 feed PixelShuffle output channels 1 and 3: make them dead
            rows = slice(4 * block, 4 * block + 4)
            net.conv.weight[rows] = 0
            net.conv.bias[rows] = 0
            net.bn.weight[rows] = 0
            net.bn.bias[rows] = 0
            net.head.weight[:, block] = 0
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        before = net(x)
    prune_network(net, x[:1], 0.5, round_to=1)
    assert net.conv.out_channels == 8 and net.bn.num_features == 8 and net.head.in_channels == 2
    with torch.no_grad():
        torch.testing.assert_close(net(x), before)  # only dead channels went, in whole groups of r^2 = 4


def test_pixel_unshuffle_spreads_each_channel() -> None:
    torch.manual_seed(0)
    net = _UnshuffleStem().eval()
    with torch.no_grad():
        net.conv.weight[2] = 0
        net.conv.bias[2] = 0
        net.head.weight[:, 8:12] = 0  # channel 2 becomes unshuffled channels 8..11
    x = torch.randn(2, 3, 8, 8)
    with torch.no_grad():
        before = net(x)
    prune_network(net, x[:1], 0.25, round_to=1)
    assert net.conv.out_channels == 3 and net.head.in_channels == 12
    with torch.no_grad():
        torch.testing.assert_close(net(x), before)


def test_fastpose_r50_prunes_layer4_and_the_duc_head() -> None:
    torch.manual_seed(0)
    model = load_pose_model(load_config(COCO_CFG, SMALL))
    x = torch.randn(1, 3, 128, 96)
    before = count_macs(model, x)
    prune_network(model, x, 0.3)
    after = count_macs(model, x)
    assert 1 - after[0] / before[0] >= 0.25  # the goal for --prune 0.3
    assert model.preact.layer4[2].conv3.out_channels < 2048  # layer4's output (feeding suffle1) is pruned
    assert model.duc1.conv.in_channels == model.preact.layer4[2].conv3.out_channels // 4
    assert model.duc1.conv.out_channels < 1024 and model.duc1.conv.out_channels % 32 == 0  # 8 after the shuffle
    assert model.preact.layer1[0].conv1.out_channels % 8 == 0
    assert model.duc2.conv.in_channels == model.duc1.conv.out_channels // 4
    assert model.conv_out.in_channels == model.duc2.conv.out_channels // 4 and model.conv_out.out_channels == 17
    assert model(torch.randn(2, 3, 128, 96)).shape == (2, 17, 32, 24)


def test_dcn_offsets_stay_whole() -> None:
    torch.manual_seed(0)
    model = load_pose_model(load_config("coco/fastpose_dcn_res50_256x192", SMALL))
    prune_network(model, torch.randn(1, 3, 128, 96), 0.3)
    block = model.preact.layer3[0]
    assert block.conv2_offset.out_channels == 18  # 2 offsets x 9 taps, never pruned
    assert block.conv2.in_channels == block.conv1.out_channels < 256
    assert block.conv2_offset.in_channels == block.conv1.out_channels
    assert block.conv2.out_channels == block.bn2.num_features == block.conv3.in_channels < 256
    assert model(torch.randn(1, 3, 128, 96)).shape == (1, 17, 32, 24)


def test_prune_pose_writes_a_loadable_pair(tmp_path) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    result = prune_pose(COCO_CFG, ckpt, 0.3, output=tmp_path / "out" / "small.yaml", opts=TINY)
    assert result.config_path == tmp_path / "out" / "small.yaml" and result.checkpoint_path.suffix == ".pth"
    assert result.flops_removed >= 0.25
    payload = torch.load(result.checkpoint_path, weights_only=True)  # tensors and text only: no pickled modules
    assert set(payload) == {"state_dict", "config"} and isinstance(payload["config"], str)
    assert all(isinstance(v, torch.Tensor) for v in payload["state_dict"].values())
    assert (
        load_config(result.config_path).MODEL.PRUNED_WIDTHS
        == load_config(CfgNode.load_cfg(payload["config"])).MODEL.PRUNED_WIDTHS
    )
    reloaded = load_pose_model(result.config_path, result.checkpoint_path)
    x = torch.randn(2, 3, 128, 96)
    with torch.no_grad():
        torch.testing.assert_close(reloaded(x), result.model(x))
    assert reloaded.duc.conv.out_channels % 4 == 0 and reloaded.conv_out.out_channels == 17
    cfg = load_config(result.config_path)
    assert [w[0] for w in cfg.MODEL.PRUNED_WIDTHS] == [w[0] for w in result.widths]


def test_taylor_importance_uses_annotated_keypoints(tmp_path) -> None:
    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    result = prune_pose(
        COCO_CFG, ckpt, 0.5, importance="taylor", calib=COCO / "person_keypoints.json", calib_size=4,
        output=tmp_path / "t.yaml", opts=TINY,
    )  # fmt: skip
    assert result.flops_removed > 0.4
    with pytest.raises(AkitError, match="needs --calib with keypoint annotations"):
        prune_pose(COCO_CFG, ckpt, 0.5, importance="taylor", calib=COCO, output=tmp_path / "u.yaml", opts=TINY)


def test_kept_blocks_round_to_multiples() -> None:
    assert kept_blocks(64, 0.3, 8) == 48  # 44.8 -> 48
    assert kept_blocks(64, 0.3, 1) == 45
    assert kept_blocks(16, 0.3, 8) == 8  # 11.2 -> 8
    assert kept_blocks(4, 0.5, 8) == 4  # fewer blocks than one rounding step: nothing cut
    assert kept_blocks(12, 0.9, 8) == 8  # at least round_to


@pytest.mark.parametrize("ratio", [0, 1, -0.2, 1.5])
def test_ratio_outside_open_interval(ratio, tmp_path) -> None:
    with pytest.raises(AkitError, match="strictly between 0 and 1"):
        prune_pose(COCO_CFG, None, ratio, output=tmp_path / "p.yaml", opts=TINY)
    assert list(tmp_path.iterdir()) == []


def test_width_entries_are_checked() -> None:
    with pytest.raises(AkitError, match="entries are"):
        parse_widths([["conv", 3]])
    with pytest.raises(AkitError, match="entries are"):
        parse_widths([["conv", 3, 0]])
    with pytest.raises(AkitError, match="no layer nope.conv"):
        apply_widths(nn.Sequential(nn.Conv2d(3, 4, 1)), [["nope.conv", 3, 2]])
    with pytest.raises(AkitError, match="cannot resize a ReLU"):
        apply_widths(nn.Sequential(nn.ReLU()), [["0", 3, 2]])
    net = apply_widths(nn.Sequential(nn.Conv2d(3, 4, 3, 2, 1, bias=False)), [["0", 3, 2]])
    assert (net[0].out_channels, net[0].stride, net[0].bias) == (2, (2, 2), None)
