"""Regenerate pose_family_golden.npz by running the ORIGINAL AlphaPose model classes (see README.md).

No AlphaPose code is in this repository: the original is extracted outside it and imported from there.

    git -C <AlphaPose git dir> archive c60106d1 alphapose/models alphapose/utils configs | tar -x -C /tmp/apmodels
    python -m venv /tmp/apenv --system-site-packages && /tmp/apenv/bin/pip install easydict
    /tmp/apenv/bin/python tests/golden/make_pose_family_golden.py /tmp/apmodels

For each family of tests/models/golden_families.py: the original's config, ``builder.build_sppe``, the seeded
weights loaded strictly, one eval-mode forward of the seeded input, the heatmap summary saved.

The original's deformable convolution is a CUDA extension (and raises NotImplementedError on CPU), so
``DeformConv.forward`` is replaced by ``deform_conv_reference`` below: the formula of its CUDA kernel
(deform_conv_cuda_kernel.cu, deformable_im2col_gpu_kernel) written with ``torch.nn.functional.grid_sample``,
independent of torchvision's deform_conv2d that akit uses.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.models.golden_families import (  # noqa: E402
    FAMILIES,
    golden_input,
    heatmap_summary,
    seeded_state_dict,
)

ORIGINAL_CONFIGS = {  # the AlphaPose config each akit config names in its first line
    "simplepose_res50": "configs/coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml",
    "fastpose_duc_shuffle_res50": "configs/coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml",
    "fastpose_duc_se_res152": "configs/coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml",
    "hrnet_w32": "configs/coco/hrnet/256x192_w32_lr1e-3.yaml",
    "fastpose_dcn_res50": "configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml",
    "hardnet68": "configs/coco/hardnet/256x192_hard68_lr1e-3_1x.yaml",
    "hardnet85": "configs/coco/hardnet/256x192_hard85_lr1e-3_1x.yaml",
    "fastpose_duc_dense_dcn_res50": "configs/dense_coco/resnet50/256x192_adam_lr1e-3-duc-dcn_1x_crop.yaml",
}


def deform_conv_reference(
    x: torch.Tensor,
    offset: torch.Tensor,
    weight: torch.Tensor,
    stride: tuple[int, int],
    padding: tuple[int, int],
    dilation: tuple[int, int],
    groups: int,
    deform_groups: int,
) -> torch.Tensor:
    """DCN v1 as the original's CUDA kernel computes it: tap (i, j) of output (y, x) samples the input at
    (y * stride - pad + i * dil + offset[2 t], x * stride - pad + j * dil + offset[2 t + 1]), t = i * kw + j, per
    deformable group, bilinearly with zeros outside the map; then a dense sum over channels and taps."""
    if groups != 1:
        raise NotImplementedError("AlphaPose's DCN uses groups=1")
    n, c, h, w = x.shape
    out_c, _, kh, kw = weight.shape
    ho, wo = offset.shape[-2:]
    base_y = (torch.arange(ho, dtype=x.dtype) * stride[0] - padding[0]).view(1, ho, 1)
    base_x = (torch.arange(wo, dtype=x.dtype) * stride[1] - padding[1]).view(1, 1, wo)
    per_group = c // deform_groups
    columns = torch.empty(n, c, kh * kw, ho, wo, dtype=x.dtype)
    for g in range(deform_groups):
        channels = slice(g * per_group, (g + 1) * per_group)
        for i in range(kh):
            for j in range(kw):
                t = i * kw + j
                py = base_y + i * dilation[0] + offset[:, g * 2 * kh * kw + 2 * t]
                px = base_x + j * dilation[1] + offset[:, g * 2 * kh * kw + 2 * t + 1]
                grid = torch.stack((2 * px / (w - 1) - 1, 2 * py / (h - 1) - 1), dim=-1)
                columns[:, channels, t] = F.grid_sample(
                    x[:, channels], grid, mode="bilinear", padding_mode="zeros", align_corners=True
                )
    return torch.einsum("nctyx,oct->noyx", columns, weight.reshape(out_c, c, kh * kw))


def import_original(root: Path):
    """Import the original's model builder with its CUDA extensions stubbed and no ImageNet download."""
    for ext in ("deform_conv_cuda", "deform_pool_cuda"):
        sys.modules[f"alphapose.models.layers.dcn.{ext}"] = types.ModuleType(ext)
    for depth in (50, 152):  # the backbones' ImageNet weights are replaced by the seeded ones anyway
        plain = getattr(torchvision.models, f"resnet{depth}")
        setattr(torchvision.models, f"resnet{depth}", lambda pretrained=False, _plain=plain, **kw: _plain(weights=None))
    sys.path.insert(0, str(root))
    from alphapose.models import builder
    from alphapose.models.layers.dcn import DeformConv
    from alphapose.utils.config import update_config

    def forward(self, x, offset):
        return deform_conv_reference(
            x, offset, self.weight, self.stride, self.padding, self.dilation, self.groups, self.deformable_groups
        )

    DeformConv.forward = forward
    return builder, update_config


def main(root: Path, out: Path, only: list[str]) -> None:
    """Run the original for every family (or those in ``only``, keeping the other families already in ``out``)."""
    torch.set_num_threads(1)
    builder, update_config = import_original(root)
    x = golden_input()
    arrays: dict[str, np.ndarray] = {}
    if only and out.exists():
        with np.load(out) as kept:
            arrays = {key: kept[key] for key in kept.files if key.split("__")[0] not in only}
    for family in only or FAMILIES:
        cfg = update_config(str(root / ORIGINAL_CONFIGS[family]))
        model = builder.build_sppe(cfg.MODEL, preset_cfg=cfg.DATA_PRESET)
        model.load_state_dict(seeded_state_dict(model.state_dict()), strict=True)
        model.eval()
        with torch.no_grad():
            heatmaps = model(x)
        for name, value in heatmap_summary(heatmaps).items():
            arrays[f"{family}__{name}"] = value
        print(f"{family}: heatmaps {tuple(heatmaps.shape)}, std {heatmaps.std():.3f}")
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]  # the stub types every keyword as allow_pickle
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--only=")]
    chosen = [name for a in sys.argv[1:] if a.startswith("--only=") for name in a[7:].split(",") if name]
    if len(args) not in (1, 2):
        sys.exit("usage: make_pose_family_golden.py ALPHAPOSE_ROOT [OUT_FILE] [--only=family,family]")
    default = Path(__file__).parent / "pose_family_golden.npz"
    main(Path(args[0]).resolve(), Path(args[1]) if len(args) == 2 else default, chosen)
