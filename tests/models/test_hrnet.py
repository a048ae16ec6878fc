"""HRNet (PoseHighResolutionNet): checkpoint layout, parameter counts, shapes, fuse semantics, init, builder.

The expected key set and parameter counts are derived here from the written facts of the AlphaPose HRNet-W32
checkpoint (shared/reference/alphapose-facts.md, section 1), independently of the model code.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError
from alphapose_kit.models import registry
from alphapose_kit.models.hrnet import (
    HighResolutionModule,
    PoseHighResolutionNet,
    StageSpec,
    build_hrnet,
    hrnet_w32,
    hrnet_w48,
)

BN_SUFFIXES = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")
W32_PARAMS = 28_536_113
W48_PARAMS = 63_595_745


@pytest.fixture(scope="module")
def w32() -> PoseHighResolutionNet:
    torch.manual_seed(0)
    return hrnet_w32()


# --------------------------------------------------------------------------------------------------------------
# 1. Exact checkpoint layout (keys and shapes)


def expected_w32_state(width: int = 32, k: int = 17) -> dict[str, tuple[int, ...]]:
    """Key -> shape of the AlphaPose HRNet checkpoint, enumerated from the facts (not from the model code)."""
    out: dict[str, tuple[int, ...]] = {}

    def conv(name: str, o: int, i: int, kk: int) -> None:
        out[f"{name}.weight"] = (o, i, kk, kk)

    def bn(name: str, c: int) -> None:
        for s in BN_SUFFIXES:
            out[f"{name}.{s}"] = () if s == "num_batches_tracked" else (c,)

    # Stem: two 3x3 stride-2 convs, 3 -> 64 -> 64.
    conv("conv1", 64, 3, 3)
    bn("bn1", 64)
    conv("conv2", 64, 64, 3)
    bn("bn2", 64)
    # layer1: 4 Bottlenecks of width 64 (output 256); block 0 has the projection.
    for b in range(4):
        cin = 64 if b == 0 else 256
        conv(f"layer1.{b}.conv1", 64, cin, 1)
        bn(f"layer1.{b}.bn1", 64)
        conv(f"layer1.{b}.conv2", 64, 64, 3)
        bn(f"layer1.{b}.bn2", 64)
        conv(f"layer1.{b}.conv3", 256, 64, 1)
        bn(f"layer1.{b}.bn3", 256)
    conv("layer1.0.downsample.0", 256, 64, 1)
    bn("layer1.0.downsample.1", 256)

    widths = [width, 2 * width, 4 * width, 8 * width]
    # Transitions: transition1 makes both branches from the 256-channel layer1 output (branch 0 changes width,
    # 3x3 s1; branch 1 is new, 3x3 s2); later ones only add the new branch from the previous last branch.
    conv("transition1.0.0", widths[0], 256, 3)
    bn("transition1.0.1", widths[0])
    conv("transition1.1.0.0", widths[1], 256, 3)
    bn("transition1.1.0.1", widths[1])
    for t, new in ((2, 2), (3, 3)):
        conv(f"transition{t}.{new}.0.0", widths[new], widths[new - 1], 3)
        bn(f"transition{t}.{new}.0.1", widths[new])

    # Stages: (name, modules, branches); every branch = 4 BasicBlocks.
    for stage, modules, nb in (("stage2", 1, 2), ("stage3", 4, 3), ("stage4", 3, 4)):
        for m in range(modules):
            p = f"{stage}.{m}"
            for b in range(nb):
                for n in range(4):
                    c = widths[b]
                    conv(f"{p}.branches.{b}.{n}.conv1", c, c, 3)
                    bn(f"{p}.branches.{b}.{n}.bn1", c)
                    conv(f"{p}.branches.{b}.{n}.conv2", c, c, 3)
                    bn(f"{p}.branches.{b}.{n}.bn2", c)
            outputs = 1 if (stage == "stage4" and m == modules - 1) else nb
            for i in range(outputs):
                for j in range(nb):
                    if j > i:
                        conv(f"{p}.fuse_layers.{i}.{j}.0", widths[i], widths[j], 1)
                        bn(f"{p}.fuse_layers.{i}.{j}.1", widths[i])
                    elif j < i:
                        for step in range(i - j):
                            last = step == i - j - 1
                            cout = widths[i] if last else widths[j]
                            conv(f"{p}.fuse_layers.{i}.{j}.{step}.0", cout, widths[j], 3)
                            bn(f"{p}.fuse_layers.{i}.{j}.{step}.1", cout)
    conv("final_layer", k, widths[0], 1)
    out["final_layer.bias"] = (k,)
    return out


def test_w32_state_dict_keys_and_shapes_match_checkpoint(w32):
    got = {k: tuple(v.shape) for k, v in w32.state_dict().items()}
    want = expected_w32_state()
    assert set(got) == set(want), (sorted(set(got) - set(want))[:5], sorted(set(want) - set(got))[:5])
    assert got == want
    assert not any(k.startswith("module.") for k in got)


def test_w32_literal_shape_spot_checks(w32):
    sd = w32.state_dict()
    literal = {
        "conv1.weight": (64, 3, 3, 3),
        "conv2.weight": (64, 64, 3, 3),
        "layer1.0.downsample.0.weight": (256, 64, 1, 1),
        "layer1.3.conv1.weight": (64, 256, 1, 1),
        "transition1.0.0.weight": (32, 256, 3, 3),
        "transition1.1.0.0.weight": (64, 256, 3, 3),
        "transition2.2.0.0.weight": (128, 64, 3, 3),
        "transition3.3.0.0.weight": (256, 128, 3, 3),
        "stage2.0.branches.1.3.conv2.weight": (64, 64, 3, 3),
        "stage2.0.fuse_layers.0.1.0.weight": (32, 64, 1, 1),
        "stage2.0.fuse_layers.1.0.0.0.weight": (64, 32, 3, 3),
        "stage3.0.fuse_layers.2.0.0.0.weight": (32, 32, 3, 3),
        "stage3.0.fuse_layers.2.0.1.0.weight": (128, 32, 3, 3),
        "stage3.3.fuse_layers.0.2.0.weight": (32, 128, 1, 1),
        "stage4.0.fuse_layers.3.0.2.0.weight": (256, 32, 3, 3),
        "stage4.0.fuse_layers.3.2.0.1.weight": (256,),
        "stage4.2.fuse_layers.0.3.0.weight": (32, 256, 1, 1),
        "stage4.2.fuse_layers.0.3.1.running_var": (32,),
        "stage4.2.branches.3.3.bn2.weight": (256,),
        "final_layer.weight": (17, 32, 1, 1),
        "final_layer.bias": (17,),
    }
    for key, shape in literal.items():
        assert tuple(sd[key].shape) == shape, key
    absent = [
        "transition2.0.0.weight",  # unchanged branches pass through: no keys
        "transition2.1.0.weight",
        "transition3.2.0.weight",
        "stage4.2.fuse_layers.1.0.0.0.weight",  # last module of stage4 fuses into branch 0 only
        "stage2.0.fuse_layers.0.0.0.weight",  # f_ii is the identity
        "final_layer.0.weight",
    ]
    for key in absent:
        assert key not in sd, key
    assert len(sd) == 1754


# --------------------------------------------------------------------------------------------------------------
# 2. Exact parameter counts by hand arithmetic


def hand_param_count(w: int, k: int = 17) -> int:
    conv3 = lambda o, i: 9 * o * i  # noqa: E731  3x3 conv, no bias
    conv1 = lambda o, i: o * i  # noqa: E731  1x1 conv, no bias
    bn = lambda c: 2 * c  # noqa: E731  BN weight + bias (running stats are buffers)

    stem = conv3(64, 3) + bn(64) + conv3(64, 64) + bn(64)  # 1728 + 128 + 36864 + 128 = 38848

    def bottleneck(cin: int) -> int:
        return conv1(64, cin) + bn(64) + conv3(64, 64) + bn(64) + conv1(256, 64) + bn(256)

    layer1 = bottleneck(64) + conv1(256, 64) + bn(256) + 3 * bottleneck(256)  # 75008 + 3 * 70400 = 286208

    def basic(c: int) -> int:
        return 2 * (9 * c * c) + 4 * c  # two 3x3 convs + two BNs

    c = [w, 2 * w, 4 * w, 8 * w]
    branch = [4 * basic(ci) for ci in c]

    def fuse(nb: int, outputs: int) -> int:
        total = 0
        for i in range(outputs):
            for j in range(nb):
                if j > i:
                    total += conv1(c[i], c[j]) + bn(c[i])
                elif j < i:
                    total += (i - j - 1) * (conv3(c[j], c[j]) + bn(c[j])) + conv3(c[i], c[j]) + bn(c[i])
        return total

    def module(nb: int, outputs: int) -> int:
        return sum(branch[:nb]) + fuse(nb, outputs)

    transition1 = conv3(c[0], 256) + bn(c[0]) + conv3(c[1], 256) + bn(c[1])  # branch 0 re-widths, 1 is new
    transition2 = conv3(c[2], c[1]) + bn(c[2])  # new branch 2 from branch 1
    transition3 = conv3(c[3], c[2]) + bn(c[3])  # new branch 3 from branch 2
    transitions = transition1 + transition2 + transition3
    stages = 1 * module(2, 2) + 4 * module(3, 3) + 2 * module(4, 4) + module(4, 1)
    final = c[0] * k + k
    return stem + layer1 + transitions + stages + final


def test_hand_arithmetic_pieces():
    assert hand_param_count(32) == W32_PARAMS
    assert hand_param_count(48) == W48_PARAMS
    # Published sizes of HRNet-W32 / W48 at 256x192: ~28.5M and ~63.6M.
    assert abs(W32_PARAMS / 28.5e6 - 1) < 0.01
    assert abs(W48_PARAMS / 63.6e6 - 1) < 0.01


def test_parameter_counts(w32):
    assert sum(p.numel() for p in w32.parameters()) == W32_PARAMS
    assert sum(p.numel() for p in hrnet_w48().parameters()) == W48_PARAMS
    assert sum(p.numel() for p in hrnet_w32(num_joints=26).parameters()) == hand_param_count(32, k=26)


def test_w48_layout_is_w32_with_wider_branches():
    sd48 = {k: tuple(v.shape) for k, v in hrnet_w48().state_dict().items()}
    assert sd48 == expected_w32_state(width=48)
    assert sd48["transition3.3.0.0.weight"] == (384, 192, 3, 3)
    assert sd48["stage4.2.fuse_layers.0.3.0.weight"] == (48, 384, 1, 1)


# --------------------------------------------------------------------------------------------------------------
# 3. Output shapes (values: tests/models/test_pose_family_golden.py, against the original)


@pytest.mark.parametrize(("shape", "k"), [((1, 3, 64, 32), 17), ((2, 3, 96, 64), 26), ((1, 3, 32, 64), 5)])
def test_output_shapes(w32, shape, k):
    model = w32 if k == 17 else hrnet_w32(num_joints=k)
    model.eval()
    with torch.no_grad():
        y = model(torch.randn(*shape))
    n, _, h, w = shape
    assert y.shape == (n, k, h // 4, w // 4)


def test_bad_input_size_is_a_clear_error(w32):
    with pytest.raises(ValueError, match="multiples of 32"):
        w32(torch.randn(1, 3, 64, 48))


def test_final_conv_kernel_3_and_bottleneck_branches():
    stages = (
        StageSpec(1, 2, (1, 1), (4, 8), block="BOTTLENECK"),
        StageSpec(1, 3, (1, 1, 2), (4, 8, 16)),
        StageSpec(2, 4, (1, 1, 1, 1), (4, 8, 16, 32), block="bottleneck"),
    )
    model = PoseHighResolutionNet(num_joints=3, stages=stages, final_conv_kernel=3).eval()
    sd = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert sd["transition1.0.0.weight"] == (16, 256, 3, 3)  # Bottleneck branch: 4 * 4 channels
    assert sd["transition1.1.0.0.weight"] == (32, 256, 3, 3)
    assert sd["stage2.0.branches.0.0.conv3.weight"] == (16, 4, 1, 1)
    assert "stage2.0.branches.0.0.downsample.0.weight" not in sd  # input already 16 = 4 * 4
    assert sd["transition2.0.0.weight"] == (4, 16, 3, 3)  # width changes 16 -> 4: 3x3 conv + BN + ReLU
    assert sd["transition2.1.0.weight"] == (8, 32, 3, 3)
    assert sd["transition2.2.0.0.weight"] == (16, 32, 3, 3)
    # Stage 4 is Bottleneck again: its first module's blocks project 4 -> 16 etc.
    assert sd["transition3.0.0.weight"] == (16, 4, 3, 3)
    assert sd["transition3.3.0.0.weight"] == (128, 16, 3, 3)
    assert sd["stage4.1.fuse_layers.0.3.0.weight"] == (16, 128, 1, 1)
    assert sd["final_layer.weight"] == (3, 16, 3, 3)
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 96)).shape == (1, 3, 16, 24)


def test_transition_growing_two_branches_chains_from_last_branch():
    stages = (
        StageSpec(1, 3, (1, 1, 1), (4, 8, 16)),  # branch 2 is two stride-2 steps away from layer1's output
        StageSpec(1, 3, (1, 1, 1), (4, 8, 16)),
        StageSpec(1, 4, (1, 1, 1, 1), (4, 8, 16, 32)),
    )
    model = PoseHighResolutionNet(num_joints=2, stages=stages).eval()
    sd = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert sd["transition1.2.0.0.weight"] == (256, 256, 3, 3)  # intermediate step keeps the source width
    assert sd["transition1.2.1.0.weight"] == (16, 256, 3, 3)
    assert not any(k.startswith("transition2.") for k in sd)  # nothing changes between stage2 and stage3
    with torch.no_grad():
        assert model(torch.randn(1, 3, 64, 64)).shape == (1, 2, 16, 16)


# --------------------------------------------------------------------------------------------------------------
# 4. Fuse semantics on hand-made modules


def _identity_branches(mod: HighResolutionModule) -> None:
    """Zero every branch conv: a BasicBlock becomes ReLU(x) (BN of 0 is 0 in eval with default stats)."""
    with torch.no_grad():
        for name, p in mod.branches.named_parameters():
            if "conv" in name:
                p.zero_()


def _up(x: torch.Tensor, f: int) -> torch.Tensor:
    return x.repeat_interleave(f, dim=-2).repeat_interleave(f, dim=-1)


S = 1.0 / (1.0 + 1e-5) ** 0.5  # eval BN with mean 0, var 1, weight 1, bias 0


def test_two_branch_fuse_upsample_and_relu_of_sum():
    mod = HighResolutionModule([2, 2], "BASIC", [1, 1], [2, 2]).eval()
    _identity_branches(mod)
    with torch.no_grad():
        up = mod.fuse_layers[0][1][0].weight  # 1x1, C1 -> C0
        up.zero_()
        up[0, 0, 0, 0] = -1.0  # channel 0: subtract
        up[1, 1, 0, 0] = 2.0  # channel 1: add twice
        down = mod.fuse_layers[1][0][0][0].weight  # 3x3 stride 2, C0 -> C1
        down.zero_()
        down[0, 1, 1, 1] = 1.0  # centre tap: out channel 0 <- in channel 1 at (2y, 2x)
        down[1, 0, 1, 1] = -3.0
    g = torch.Generator().manual_seed(0)
    x0 = torch.randn(1, 2, 8, 6, generator=g)
    x1 = torch.randn(1, 2, 4, 3, generator=g) * 2
    with torch.no_grad():
        y0, y1 = mod([x0.clone(), x1.clone()])
    r0, r1 = x0.relu(), x1.relu()  # branch outputs
    f01 = S * torch.stack([-r1[:, 0], 2 * r1[:, 1]], dim=1)
    f10 = S * torch.stack([r0[:, 1, ::2, ::2], -3 * r0[:, 0, ::2, ::2]], dim=1)
    want0 = (r0 + _up(f01, 2)).relu()
    want1 = (f10 + r1).relu()
    torch.testing.assert_close(y0, want0, rtol=0, atol=1e-6)
    torch.testing.assert_close(y1, want1, rtol=0, atol=1e-6)
    # The case discriminates: ReLU applied per term before summing would give something else.
    assert not torch.allclose(y0, r0.relu() + _up(f01, 2).relu())
    assert (want0 == 0).any() and (want0 > 0).any()


def test_three_branch_fuse_chains_and_x4_upsampling():
    mod = HighResolutionModule([1, 1, 1], "BASIC", [1, 1, 1], [1, 1, 1]).eval()
    _identity_branches(mod)
    a = {(0, 1): 0.5, (0, 2): -1.5, (1, 2): 2.0}  # 1x1 weights for j > i
    chains = {(1, 0): [1.25], (2, 1): [-0.75], (2, 0): [-1.0, 1.0]}  # centre taps for j < i
    with torch.no_grad():
        for (i, j), v in a.items():
            mod.fuse_layers[i][j][0].weight.fill_(v)
        for (i, j), taps in chains.items():
            for step, v in enumerate(taps):
                w = mod.fuse_layers[i][j][step][0].weight
                w.zero_()
                w[0, 0, 1, 1] = v
    g = torch.Generator().manual_seed(1)
    xs = [
        torch.randn(2, 1, 16, 8, generator=g),
        torch.randn(2, 1, 8, 4, generator=g),
        torch.randn(2, 1, 4, 2, generator=g),
    ]
    with torch.no_grad():
        ys = mod([x.clone() for x in xs])
    r = [x.relu() for x in xs]
    f = {
        (0, 1): _up(S * a[(0, 1)] * r[1], 2),
        (0, 2): _up(S * a[(0, 2)] * r[2], 4),
        (1, 2): _up(S * a[(1, 2)] * r[2], 2),
        (1, 0): S * 1.25 * r[0][..., ::2, ::2],
        (2, 1): S * -0.75 * r[1][..., ::2, ::2],
        # two stride-2 steps with ReLU between: relu(-S * r0) = 0, so this path is exactly 0
        (2, 0): S * (S * -1.0 * r[0][..., ::2, ::2]).relu()[..., ::2, ::2],
    }
    assert torch.count_nonzero(f[(2, 0)]) == 0
    for i in range(3):
        want = sum(r[j] if j == i else f[(i, j)] for j in range(3)).relu()
        torch.testing.assert_close(ys[i], want, rtol=0, atol=1e-6)
    # Without the intermediate ReLU the (2, 0) path would be -S^2 * r0[::4, ::4], visibly different.
    no_relu = (-(S**2) * r[0][..., ::4, ::4] + f[(2, 1)] + r[2]).relu()
    assert not torch.allclose(ys[2], no_relu)

    single = HighResolutionModule([1, 1, 1], "BASIC", [1, 1, 1], [1, 1, 1], multi_scale_output=False)
    assert len(single.fuse_layers) == 1
    assert len(single([x.clone() for x in xs])) == 1


# --------------------------------------------------------------------------------------------------------------
# Init and config builder


def test_init_weights_follows_alphapose():
    torch.manual_seed(0)
    model = PoseHighResolutionNet(
        num_joints=4,
        stages=(
            StageSpec(1, 2, (1, 1), (8, 16)),
            StageSpec(1, 3, (1, 1, 1), (8, 16, 32)),
            StageSpec(1, 4, (1, 1, 1, 1), (8, 16, 32, 64)),
        ),
    )
    model.init_weights()
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    weights = torch.cat([m.weight.flatten() for m in convs])
    assert abs(weights.std().item() - 0.001) < 5e-5
    assert abs(weights.mean().item()) < 5e-5
    assert torch.count_nonzero(model.final_layer.bias) == 0
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            assert torch.all(m.weight == 1) and torch.all(m.bias == 0)
            assert m.eps == 1e-5 and m.momentum == 0.1


def _alphapose_cfg(num_joints: int = 17, final_kernel: int = 1, width: int = 32) -> CfgNode:
    w = [width, 2 * width, 4 * width, 8 * width]

    def stage(modules: int, branches: int) -> dict:
        return {
            "NUM_MODULES": modules,
            "NUM_BRANCHES": branches,
            "NUM_BLOCKS": [4] * branches,
            "NUM_CHANNELS": w[:branches],
            "BLOCK": "BASIC",
            "FUSE_METHOD": "SUM",
        }

    return CfgNode(
        {
            "DATA_PRESET": {"TYPE": "simple", "NUM_JOINTS": num_joints},
            "MODEL": {
                "TYPE": "PoseHighResolutionNet",
                "PRETRAINED": "",
                "TRY_LOAD": "",
                "NUM_LAYERS": 50,
                "FINAL_CONV_KERNEL": final_kernel,
                "PRETRAINED_LAYERS": ["*"],
                "STAGE2": stage(1, 2),
                "STAGE3": stage(4, 3),
                "STAGE4": stage(3, 4),
            },
        }
    )


def test_builder_registered_and_matches_w32(w32):
    assert registry._BUILDERS["PoseHighResolutionNet"] is build_hrnet
    assert registry._BUILDERS["HRNet"] is build_hrnet
    model = build_hrnet(_alphapose_cfg())
    assert isinstance(model, PoseHighResolutionNet)
    assert {k: v.shape for k, v in model.state_dict().items()} == {k: v.shape for k, v in w32.state_dict().items()}
    model.load_state_dict(w32.state_dict(), strict=True)


def test_builder_joints_kernel_and_width():
    model = build_hrnet(_alphapose_cfg(num_joints=26, final_kernel=3, width=48))
    sd = model.state_dict()
    assert tuple(sd["final_layer.weight"].shape) == (26, 48, 3, 3)
    assert sum(p.numel() for p in model.parameters()) == W48_PARAMS - (17 * 48 + 17) + (26 * 48 * 9 + 26)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("NUM_BLOCKS", [4, 4, 4], "NUM_BLOCKS"),
        ("NUM_CHANNELS", [32], "NUM_CHANNELS"),
        ("BLOCK", "RESNEXT", "BLOCK"),
        ("FUSE_METHOD", "CAT", "FUSE_METHOD"),
    ],
)
def test_builder_rejects_bad_stage(key, value, match):
    cfg = _alphapose_cfg()
    cfg.MODEL.STAGE2[key] = value
    with pytest.raises(ConfigError, match=match):
        build_hrnet(cfg)


def test_builder_missing_stage_and_bad_kernel():
    cfg = _alphapose_cfg()
    del cfg.MODEL["STAGE3"]
    with pytest.raises(ConfigError, match="STAGE3"):
        build_hrnet(cfg)
    with pytest.raises(ConfigError, match="FINAL_CONV_KERNEL"):
        build_hrnet(_alphapose_cfg(final_kernel=2))
