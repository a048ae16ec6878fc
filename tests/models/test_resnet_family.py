"""ResNet-family pose nets (FastPose, FastPose_DUC, SimplePose): checkpoint layout, sizes, DCN, shuffles.

Expected keys, shapes and parameter counts are derived here from the written architecture facts of the AlphaPose
checkpoints (shared/reference/alphapose-facts.md, section 1), independently of the model code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from alphapose_kit.errors import ConfigError
from alphapose_kit.models import registry
from alphapose_kit.models.dcn import DeformConv2d, ModulatedDeformConv2d
from alphapose_kit.models.fastpose import FastPose, build_fastpose
from alphapose_kit.models.fastpose_duc import FastPoseDUC, build_fastpose_duc
from alphapose_kit.models.resnet import Bottleneck, ResNet
from alphapose_kit.models.simplepose import SimplePose, build_simplepose

BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
WIDTHS = (64, 128, 256, 512)

# --------------------------------------------------------------------------------------------------------------
# Parameter counts by hand arithmetic.
#
# Plain ResNet trunk without fc = torchvision's published totals minus the 2048 -> 1000 fc (2048*1000 + 1000):
#   R50  25,557,032 - 2,049,000 = 23,508,032
#   R101 44,549,160 - 2,049,000 = 42,500,160
#   R152 60,192,808 - 2,049,000 = 58,143,808
# (re-derived block by block in test_trunk_arithmetic below).
R50_TRUNK, R101_TRUNK, R152_TRUNK = 23_508_032, 42_500_160, 58_143_808
# SE (one per stage, reduction 1): sum over C in 256, 512, 1024, 2048 of 2 * (C*C + C)
#   = 2 * (65,792 + 262,656 + 1,049,600 + 4,196,352) = 11,148,800
SE = 11_148_800
# DCN: every block of layer2-4 (4 + 6 + 3 = 13 in R50) gains conv2_offset (18*p*9 weights + 18 bias);
# the deformable conv2 keeps conv2's (p, p, 3, 3) weight.
#   p=128: 4 * (20,736 + 18) =  83,016
#   p=256: 6 * (41,472 + 18) = 248,940
#   p=512: 3 * (82,944 + 18) = 248,886          -> 580,842
DCN_R50 = 580_842
# 'shuffle' trunk: conv2 of layer2.0/3.0/4.0 is (p, 4p, 3, 3) instead of (p, p, 3, 3): + 27 p^2 each
#   27 * (128^2 + 256^2 + 512^2) = 27 * 344,064 = 9,289,728
SHUFFLE = 9_289_728
# FastPose head: duc1 512*1024*9 + 2*1024 = 4,720,640
#                duc2 256*512*9 + 2*512 = 1,180,672 (conv_dim 128) | 256*1024*9 + 2*1024 = 2,361,344 (conv_dim 256)
#                conv_out conv_dim*9*K + K: 128*9*17 + 17 = 19,601 | 256*9*26 + 26 = 59,930
FASTPOSE_HEAD_128_K17 = 4_720_640 + 1_180_672 + 19_601  # 5,920,913
FASTPOSE_HEAD_256_K26 = 4_720_640 + 2_361_344 + 59_930  # 7,141,914
# FastPose_DUC head (4, 2, 1):
#   duc1: 3 * 512*512*9 + 512*1024*9 + BN 2*(3*512 + 1024) = 7,077,888 + 4,718,592 + 5,120 = 11,801,600
#   duc2: 256*256*9 + 256*512*9 + BN 2*(256 + 512)         =   589,824 + 1,179,648 + 1,536 =  1,771,008
#   duc3: 128*256*9 + BN 2*256                             =   294,912 + 512              =    295,424
#   conv_out 256*9*17 + 17                                 =                                    39,185
DUC_HEAD_K17 = 11_801_600 + 1_771_008 + 295_424 + 39_185  # 13,907,217
# SimplePose head: 2048*256*16 + 2 * 256*256*16 + BN 3*2*256 + final 256*17 + 17
#   = 8,388,608 + 2,097,152 + 1,536 + 4,369 = 10,491,665
SIMPLE_HEAD_K17 = 10_491_665


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], nn.Module]
    depth: int
    se: bool
    head: str  # "fastpose" | "duc" | "simple"
    params: int
    joints: int = 17
    conv_dim: int = 128
    dcn_stages: tuple[int, ...] = ()
    shuffle: bool = False


CASES = [
    Case("fastpose_r50", lambda: FastPose(), 50, True, "fastpose", 40_577_745),
    Case(
        "fastpose_r50_dcn",
        lambda: FastPose(stage_with_dcn=(False, True, True, True)),
        50,
        True,
        "fastpose",
        41_158_587,
        dcn_stages=(2, 3, 4),
    ),
    Case(
        "fastpose_r50_k26_dim256",
        lambda: FastPose(num_joints=26, conv_dim=256),
        50,
        True,
        "fastpose",
        41_798_746,
        joints=26,
        conv_dim=256,
    ),
    Case(
        "duc_shuffle_r50",
        lambda: FastPoseDUC(backbone="shuffle"),
        50,
        True,
        "duc",
        57_853_777,
        shuffle=True,
    ),
    Case("duc_se_r152", lambda: FastPoseDUC(num_layers=152, backbone="se-resnet"), 152, True, "duc", 83_199_825),
    Case("simple_r50", lambda: SimplePose(), 50, False, "simple", 33_999_697),
]


def test_hand_totals_add_up() -> None:
    """The per-model totals are the sums of the hand-derived parts above."""
    assert R50_TRUNK + SE + FASTPOSE_HEAD_128_K17 == 40_577_745
    assert R50_TRUNK + SE + DCN_R50 + FASTPOSE_HEAD_128_K17 == 41_158_587
    assert R50_TRUNK + SE + FASTPOSE_HEAD_256_K26 == 41_798_746
    assert R50_TRUNK + SE + SHUFFLE + DUC_HEAD_K17 == 57_853_777
    assert R152_TRUNK + SE + DUC_HEAD_K17 == 83_199_825
    assert R50_TRUNK + SIMPLE_HEAD_K17 == 33_999_697


def test_trunk_arithmetic() -> None:
    """The trunk totals above, re-derived from the Bottleneck description (stem + blocks, no fc)."""

    def block(cin: int, p: int, first: bool) -> int:
        # conv1 1x1, bn1, conv2 3x3, bn2, conv3 1x1 to 4p, bn3 (+ 1x1 projection and BN in block 0)
        n = cin * p + 2 * p + 9 * p * p + 2 * p + p * 4 * p + 2 * 4 * p
        return n + (cin * 4 * p + 2 * 4 * p if first else 0)

    def trunk(depth: int) -> int:
        n, cin = 64 * 3 * 7 * 7 + 2 * 64, 64
        for blocks, p in zip(DEPTHS[depth], WIDTHS, strict=True):
            for b in range(blocks):
                n += block(cin, p, b == 0)
                cin = 4 * p
        return n

    assert (trunk(50), trunk(101), trunk(152)) == (R50_TRUNK, R101_TRUNK, R152_TRUNK)
    assert sum(2 * (c * c + c) for c in (256, 512, 1024, 2048)) == SE
    assert sum(n * (18 * p * 9 + 18) for n, p in ((4, 128), (6, 256), (3, 512))) == DCN_R50


# --------------------------------------------------------------------------------------------------------------
# Expected checkpoint layout, enumerated from the facts


def expected_state(case: Case) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}

    def bn(name: str, c: int) -> None:
        for s in BN_SUFFIXES:
            out[f"{name}.{s}"] = () if s == "num_batches_tracked" else (c,)

    out["preact.conv1.weight"] = (64, 3, 7, 7)
    bn("preact.bn1", 64)
    cin = 64
    for stage, (blocks, p) in enumerate(zip(DEPTHS[case.depth], WIDTHS, strict=True), start=1):
        for b in range(blocks):
            pre = f"preact.layer{stage}.{b}"
            out[f"{pre}.conv1.weight"] = (p, cin, 1, 1)
            bn(f"{pre}.bn1", p)
            if stage in case.dcn_stages:
                out[f"{pre}.conv2_offset.weight"] = (18, p, 3, 3)
                out[f"{pre}.conv2_offset.bias"] = (18,)
                out[f"{pre}.conv2.weight"] = (p, p, 3, 3)
            elif case.shuffle and stage > 1 and b == 0:
                out[f"{pre}.conv2.1.weight"] = (p, 4 * p, 3, 3)
            else:
                out[f"{pre}.conv2.weight"] = (p, p, 3, 3)
            bn(f"{pre}.bn2", p)
            out[f"{pre}.conv3.weight"] = (4 * p, p, 1, 1)
            bn(f"{pre}.bn3", 4 * p)
            if b == 0:
                out[f"{pre}.downsample.0.weight"] = (4 * p, cin, 1, 1)
                bn(f"{pre}.downsample.1", 4 * p)
                if case.se:
                    for fc in ("fc.0", "fc.2"):
                        out[f"{pre}.se.{fc}.weight"] = (4 * p, 4 * p)
                        out[f"{pre}.se.{fc}.bias"] = (4 * p,)
            cin = 4 * p

    k = case.joints
    if case.head == "fastpose":
        out["duc1.conv.weight"] = (1024, 512, 3, 3)
        bn("duc1.bn", 1024)
        duc2_out = {128: 512, 256: 1024}[case.conv_dim]
        out["duc2.conv.weight"] = (duc2_out, 256, 3, 3)
        bn("duc2.bn", duc2_out)
        out["conv_out.weight"] = (k, case.conv_dim, 3, 3)
        out["conv_out.bias"] = (k,)
    elif case.head == "duc":
        for i in (1, 4, 7):
            out[f"duc1.{i}.weight"] = (512, 512, 3, 3)
        out["duc1.10.weight"] = (1024, 512, 3, 3)
        for i, c in ((2, 512), (5, 512), (8, 512), (11, 1024)):
            bn(f"duc1.{i}", c)
        out["duc2.1.weight"] = (256, 256, 3, 3)
        out["duc2.4.weight"] = (512, 256, 3, 3)
        bn("duc2.2", 256)
        bn("duc2.5", 512)
        out["duc3.1.weight"] = (256, 128, 3, 3)
        bn("duc3.2", 256)
        out["conv_out.weight"] = (k, 256, 3, 3)
        out["conv_out.bias"] = (k,)
    else:
        out["deconv_layers.0.weight"] = (2048, 256, 4, 4)
        out["deconv_layers.3.weight"] = (256, 256, 4, 4)
        out["deconv_layers.6.weight"] = (256, 256, 4, 4)
        for i in (1, 4, 7):
            bn(f"deconv_layers.{i}", 256)
        out["final_layer.weight"] = (k, 256, 1, 1)
        out["final_layer.bias"] = (k,)
    return out


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def built(request: pytest.FixtureRequest) -> tuple[Case, nn.Module]:
    torch.manual_seed(0)
    return request.param, request.param.build()


def test_state_dict_layout(built: tuple[Case, nn.Module]) -> None:
    case, model = built
    got = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    want = expected_state(case)
    assert sorted(set(got) - set(want)) == []
    assert sorted(set(want) - set(got)) == []
    assert {k: v for k, v in got.items() if v != want[k]} == {}


def test_parameter_count(built: tuple[Case, nn.Module]) -> None:
    case, model = built
    assert sum(p.numel() for p in model.parameters()) == case.params


def test_output_shape(built: tuple[Case, nn.Module]) -> None:
    """Heatmaps at 1/4 of the input; the values are checked against the original in test_pose_family_golden.py."""
    case, model = built
    with torch.no_grad():
        out = model.eval()(torch.zeros(2, 3, 64, 32))
    assert out.shape == (2, case.joints, 16, 8)


def test_literal_spot_checks() -> None:
    torch.manual_seed(0)
    fastpose = FastPose()
    assert isinstance(fastpose.suffle1, nn.PixelShuffle) and fastpose.suffle1.upscale_factor == 2
    fp = fastpose.state_dict()
    assert fp["preact.layer1.0.se.fc.0.weight"].shape == (256, 256)
    assert fp["preact.layer4.0.se.fc.2.weight"].shape == (2048, 2048)
    assert "preact.layer1.1.se.fc.0.weight" not in fp  # SE only in block 0
    assert fp["duc2.conv.weight"].shape == (512, 256, 3, 3)
    assert fp["conv_out.weight"].shape == (17, 128, 3, 3)
    assert not any(k.startswith("suffle1") for k in fp)  # PixelShuffle: no parameters
    duc = FastPoseDUC(backbone="shuffle").state_dict()
    assert duc["preact.layer2.0.conv2.1.weight"].shape == (128, 512, 3, 3)
    assert duc["preact.layer3.0.conv2.1.weight"].shape == (256, 1024, 3, 3)
    assert duc["preact.layer4.0.conv2.1.weight"].shape == (512, 2048, 3, 3)
    assert duc["preact.layer2.0.downsample.0.weight"].shape == (512, 256, 1, 1)
    assert duc["preact.layer2.1.conv2.weight"].shape == (128, 128, 3, 3)
    assert duc["duc1.10.weight"].shape == (1024, 512, 3, 3)
    sp = SimplePose().state_dict()
    assert sp["deconv_layers.0.weight"].shape == (2048, 256, 4, 4)
    assert "preact.layer1.0.se.fc.0.weight" not in sp
    plain = FastPoseDUC(backbone="resnet").state_dict()
    assert not any(".se." in k for k in plain)


def test_bn_settings_and_modulated_dcn_layout() -> None:
    model = FastPose(stage_with_dcn=(False, True, True, True), dcn_modulated=True, deform_groups=2)
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(m.eps == 1e-5 and m.momentum == 0.1 for m in bns)
    state = model.state_dict()
    assert state["preact.layer2.0.conv2_offset.weight"].shape == (54, 128, 3, 3)  # 27 * deform_groups
    assert state["preact.layer4.2.conv2.weight"].shape == (512, 512, 3, 3)
    assert "preact.layer1.0.conv2_offset.weight" not in state
    with torch.no_grad():
        assert model.eval()(torch.randn(1, 3, 64, 32)).shape == (1, 17, 16, 8)


def test_init_weights_follows_recipe() -> None:
    torch.manual_seed(0)
    fp = FastPose()
    nn.init.constant_(fp.conv_out.weight, 1.0)
    fp.init_weights()
    assert 0.0009 < fp.conv_out.weight.std().item() < 0.0011
    assert torch.count_nonzero(fp.conv_out.bias) == 0
    sp = SimplePose()
    for m in sp.deconv_layers:
        if isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 3.0)
            nn.init.constant_(m.bias, 3.0)
    sp.init_weights()
    for i in (0, 3, 6):
        assert 0.0009 < sp.deconv_layers[i].weight.std().item() < 0.0011
    for i in (1, 4, 7):
        assert torch.all(sp.deconv_layers[i].weight == 1) and torch.all(sp.deconv_layers[i].bias == 0)
    assert 0.0009 < sp.final_layer.weight.std().item() < 0.0011
    assert torch.count_nonzero(sp.final_layer.bias) == 0


# --------------------------------------------------------------------------------------------------------------
# Builders (registry, yacs config)


def _cfg(*opts: str):
    from alphapose_kit.config import load_config

    return load_config(None, opts=list(opts))


def test_build_from_config() -> None:
    model = registry.build_pose_model(_cfg("MODEL.TYPE", "FastPose"))
    assert isinstance(model, FastPose) and sum(p.numel() for p in model.parameters()) == 40_577_745

    model = registry.build_pose_model(
        _cfg("MODEL.TYPE", "FastPose", "MODEL.STAGE_WITH_DCN", "[False, True, True, True]")
    )
    assert sum(p.numel() for p in model.parameters()) == 41_158_587

    model = build_fastpose(_cfg("DATA_PRESET.NUM_JOINTS", "26", "MODEL.CONV_DIM", "256"))
    assert model.state_dict()["conv_out.weight"].shape == (26, 256, 3, 3)

    model = registry.build_pose_model(_cfg("MODEL.TYPE", "FastPose_DUC", "MODEL.BACKBONE", "shuffle"))
    assert isinstance(model, FastPoseDUC) and sum(p.numel() for p in model.parameters()) == 57_853_777

    model = build_fastpose_duc(_cfg("MODEL.STAGE1.NUM_CONV", "2", "MODEL.STAGE2.NUM_CONV", "1"))
    state = model.state_dict()
    assert state["duc1.4.weight"].shape == (1024, 512, 3, 3) and "duc1.7.weight" not in state
    assert state["duc2.1.weight"].shape == (512, 256, 3, 3)
    assert "preact.layer1.0.se.fc.0.weight" in state  # BACKBONE default 'se-resnet'

    model = registry.build_pose_model(_cfg("MODEL.TYPE", "SimplePose", "DATA_PRESET.NUM_JOINTS", "26"))
    assert isinstance(model, SimplePose) and model.final_layer.weight.shape == (26, 256, 1, 1)


def test_builder_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="MODEL.NUM_LAYERS"):
        build_fastpose(_cfg("MODEL.NUM_LAYERS", "34"))
    with pytest.raises(ConfigError, match="DCN"):
        build_fastpose_duc(_cfg("MODEL.STAGE_WITH_DCN", "[False, True, True, True]"))
    with pytest.raises(ConfigError, match="STAGE_WITH_DCN"):
        build_fastpose(_cfg("MODEL.STAGE_WITH_DCN", "[True, True]"))
    with pytest.raises(ConfigError, match="NUM_DECONV_FILTERS"):
        build_simplepose(_cfg("MODEL.NUM_DECONV_FILTERS", "[256, 256]"))
    with pytest.raises(ConfigError, match="CONV_DIM"):
        build_fastpose(_cfg("MODEL.CONV_DIM", "0"))


def test_fallback_on_stride_means_no_dcn() -> None:
    model = build_fastpose(
        _cfg("MODEL.STAGE_WITH_DCN", "[False, True, True, True]", "MODEL.DCN.FALLBACK_ON_STRIDE", "True")
    )
    assert not any("conv2_offset" in k for k in model.state_dict())


# --------------------------------------------------------------------------------------------------------------
# Deformable convolution, checked against hand-derived references


def _offsets(n: int, h: int, w: int, dy: float, dx: float, groups: int = 1) -> torch.Tensor:
    off = torch.zeros(n, groups * 18, h, w)
    off[:, 0::2] = dy  # channel 2t = dy of tap t
    off[:, 1::2] = dx  # channel 2t + 1 = dx
    return off


def _shift_left(x: torch.Tensor, k: int) -> torch.Tensor:
    """out[..., X] = x[..., X + k] with zero fill."""
    out = torch.zeros_like(x)
    out[..., : x.shape[-1] - k] = x[..., k:]
    return out


def _shift_up(x: torch.Tensor, k: int) -> torch.Tensor:
    """out[..., Y, :] = x[..., Y + k, :] with zero fill."""
    out = torch.zeros_like(x)
    out[..., : x.shape[-2] - k, :] = x[..., k:, :]
    return out


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("groups", [1, 2])
def test_deform_conv_zero_offset_is_conv(stride: int, groups: int) -> None:
    torch.manual_seed(0)
    conv = DeformConv2d(4, 6, 3, stride=stride, padding=1, deform_groups=groups)
    x = torch.randn(2, 4, 9, 7)
    ref = F.conv2d(x, conv.weight, stride=stride, padding=1)
    got = conv(x, _offsets(2, ref.shape[2], ref.shape[3], 0.0, 0.0, groups))
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_deform_conv_integer_and_half_pixel_offsets() -> None:
    """Tap (i, j) at output (y, x) samples input (y - 1 + i + dy, x - 1 + j + dx); zero outside the map.

    So a constant offset equals an ordinary conv over the zero-padded input shifted by (dy, dx).
    """
    torch.manual_seed(0)
    conv = DeformConv2d(3, 5, 3, stride=1, padding=1)
    x = torch.randn(1, 3, 6, 8)
    padded = F.pad(x, (1, 1, 1, 1))
    h, w = 6, 8
    # dx = +1: every tap reads one pixel to the right
    ref = F.conv2d(_shift_left(padded, 1), conv.weight)
    torch.testing.assert_close(conv(x, _offsets(1, h, w, 0.0, 1.0)), ref, atol=1e-5, rtol=1e-5)
    # dy = +1: one pixel down (checks that channel 2t is the vertical component)
    ref = F.conv2d(_shift_up(padded, 1), conv.weight)
    torch.testing.assert_close(conv(x, _offsets(1, h, w, 1.0, 0.0)), ref, atol=1e-5, rtol=1e-5)
    # dx = +0.5: bilinear sampling halfway = mean of the two neighbours
    ref = F.conv2d(0.5 * (padded + _shift_left(padded, 1)), conv.weight)
    torch.testing.assert_close(conv(x, _offsets(1, h, w, 0.0, 0.5)), ref, atol=1e-5, rtol=1e-5)


def test_modulated_deform_conv_mask_scales_taps() -> None:
    torch.manual_seed(0)
    plain = DeformConv2d(4, 6, 3, padding=1)
    modulated = ModulatedDeformConv2d(4, 6, 3, padding=1)
    modulated.load_state_dict(plain.state_dict())
    x = torch.randn(2, 4, 5, 6)
    offset = torch.randn(2, 18, 5, 6)
    half = torch.full((2, 9, 5, 6), 0.5)
    torch.testing.assert_close(modulated(x, offset, half), 0.5 * plain(x, offset), atol=1e-5, rtol=1e-5)
    zero_offset = torch.zeros(2, 18, 5, 6)
    ref = 0.5 * F.conv2d(x, plain.weight, padding=1)
    torch.testing.assert_close(modulated(x, zero_offset, half), ref, atol=1e-5, rtol=1e-5)
    # mask of a single tap: only that tap's weight contributes
    only_centre = torch.zeros(2, 9, 5, 6)
    only_centre[:, 4] = 1.0
    centre_weight = torch.zeros_like(plain.weight)
    centre_weight[:, :, 1, 1] = plain.weight[:, :, 1, 1]
    ref = F.conv2d(x, centre_weight, padding=1)
    torch.testing.assert_close(modulated(x, zero_offset, only_centre), ref, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("modulated", [False, True])
def test_dcn_bottleneck_with_zero_offsets_is_plain_bottleneck(modulated: bool) -> None:
    """With conv2_offset predicting zero offsets (and mask logits +30 -> mask 1), a DCN block = a plain block.

    For the modulated block this also checks the split: first 18*g channels offsets, last 9*g mask logits.
    """
    torch.manual_seed(0)
    groups = 2 if modulated else 1
    down = nn.Sequential(nn.Conv2d(64, 128, 1, stride=2, bias=False), nn.BatchNorm2d(128))
    dcn = Bottleneck(
        64, 32, 2, downsample=down, with_se=True, with_dcn=True, dcn_modulated=modulated, deform_groups=groups
    ).eval()
    nn.init.zeros_(dcn.conv2_offset.weight)
    nn.init.zeros_(dcn.conv2_offset.bias)
    if modulated:
        with torch.no_grad():
            dcn.conv2_offset.bias[18 * groups :] = 30.0
    plain = Bottleneck(
        64,
        32,
        2,
        downsample=nn.Sequential(nn.Conv2d(64, 128, 1, stride=2, bias=False), nn.BatchNorm2d(128)),
        with_se=True,
    ).eval()
    state = {k: v for k, v in dcn.state_dict().items() if not k.startswith("conv2_offset")}
    plain.load_state_dict(state, strict=True)
    x = torch.randn(2, 64, 8, 6)
    with torch.no_grad():
        torch.testing.assert_close(dcn(x), plain(x), atol=1e-5, rtol=1e-5)


# --------------------------------------------------------------------------------------------------------------
# PixelShuffle / PixelUnshuffle index mapping


def test_pixel_unshuffle_inverts_pixel_shuffle() -> None:
    torch.manual_seed(0)
    trunk = ResNet(50, with_se=True, unshuffle_downsample=True)
    unshuffle = trunk.layer2[0].conv2[0]  # the module the 'shuffle' trunk actually uses
    x = torch.randn(2, 8, 6, 4)
    torch.testing.assert_close(nn.PixelShuffle(2)(unshuffle(x)), x, rtol=0, atol=0)
    y = torch.randn(2, 12, 3, 5)
    torch.testing.assert_close(unshuffle(nn.PixelShuffle(2)(y)), y, rtol=0, atol=0)


def test_pixel_shuffle_channel_mapping_by_hand() -> None:
    """Channel c*r*r + i*r + j at (y, x) <-> channel c at (y*r + i, x*r + j), r = 2."""
    unshuffle = ResNet(50, with_se=True, unshuffle_downsample=True).layer3[0].conv2[0]
    image = torch.arange(32.0).reshape(1, 2, 4, 4)  # channel c holds 16c .. 16c + 15, row-major
    out = unshuffle(image)
    assert out.shape == (1, 8, 2, 2)
    expected = torch.tensor(
        [
            [[0, 2], [8, 10]],  # c0, i0 j0
            [[1, 3], [9, 11]],  # c0, i0 j1
            [[4, 6], [12, 14]],  # c0, i1 j0
            [[5, 7], [13, 15]],  # c0, i1 j1
            [[16, 18], [24, 26]],  # c1, i0 j0
            [[17, 19], [25, 27]],
            [[20, 22], [28, 30]],
            [[21, 23], [29, 31]],
        ],
        dtype=torch.float32,
    )[None]
    assert torch.equal(out, expected)
    up = nn.PixelShuffle(2)  # the layer type FastPose's suffle1 and the DUC heads use
    assert torch.equal(up(expected), image)
    for c in range(2):
        for i in range(2):
            for j in range(2):
                for y in range(2):
                    for x in range(2):
                        assert up(expected)[0, c, y * 2 + i, x * 2 + j] == expected[0, c * 4 + i * 2 + j, y, x]
