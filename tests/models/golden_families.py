"""Inputs of the pose-family golden test, shared by the test and the generator that ran the ORIGINAL AlphaPose.

Pure torch/numpy (no akit import), so tests/golden/make_pose_family_golden.py can use it beside AlphaPose's code:
the seeded weights, the input batch and the summary of the heatmaps that the golden stores.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

# golden name -> akit config in configs/coco (FastPose SE-ResNet-50: tests/engine/test_alphapose_parity.py)
FAMILIES = {
    "simplepose_res50": "simplepose_res50_256x192.yaml",
    "fastpose_duc_shuffle_res50": "fastpose_duc_shuffle_res50_256x192.yaml",
    "fastpose_duc_se_res152": "fastpose_duc_res152_256x192.yaml",
    "hrnet_w32": "hrnet_w32_256x192.yaml",
    "fastpose_dcn_res50": "fastpose_dcn_res50_256x192.yaml",
    "hardnet68": "hardnet68_256x192.yaml",
    "hardnet85": "hardnet85_256x192.yaml",
    "fastpose_duc_dense_dcn_res50": "fastpose_duc_dense_dcn_res50_256x192.yaml",
}
SEED = 0
# Half the configs' 256 x 192: the same layers at a quarter of the compute; multiples of 32 (HRNet's four branches).
INPUT_SHAPE = (2, 3, 128, 96)
SAMPLE_STEP = 4  # the golden keeps every 4th heatmap row and column (from index 1) of every joint


def seeded_state_dict(template: Mapping[str, torch.Tensor], seed: int = SEED) -> dict[str, torch.Tensor]:
    """Seeded weights with the template's keys, shapes and dtypes, drawn in sorted key order.

    Every drawn value is u ~ U(-1, 1) on a 2^-23 grid from numpy's legacy RandomState.randint (a stream frozen
    across numpy versions, and 4x faster than its normal draws): conv/linear weights u * sqrt(3 / fan_in) (unit
    gain), BN weight and running_var 1 + u / 2, running_mean and every bias u / 10, num_batches_tracked 0.
    Heatmap RMS is then 0.3 to 22, and 5e3 for HRNet (its residual sums grow); the test's tolerance is relative,
    and a 0.1 % change of one BN weight moves the heatmaps by more than 15x the float32 noise of channels_last.
    """
    rng = np.random.RandomState(seed)
    state: dict[str, torch.Tensor] = {}
    for key in sorted(template):
        ref = template[key]
        shape = tuple(ref.shape)
        if key.endswith("num_batches_tracked"):
            state[key] = torch.zeros(shape, dtype=ref.dtype)
            continue
        u = (rng.randint(0, 1 << 24, size=shape, dtype=np.uint32) + 0.5) * 2.0**-23 - 1.0
        if ref.dim() >= 2:
            values = u * np.sqrt(3.0 / np.prod(shape[1:]))
        elif key.endswith(("weight", "running_var")):
            values = 1.0 + 0.5 * u
        else:
            values = 0.1 * u
        state[key] = torch.from_numpy(np.asarray(values)).to(ref.dtype)
    return state


def golden_input() -> torch.Tensor:
    """The input batch: standard normal values from RandomState(SEED), shape INPUT_SHAPE."""
    return torch.from_numpy(np.random.RandomState(SEED).standard_normal(INPUT_SHAPE).astype(np.float32))


def heatmap_summary(heatmaps: torch.Tensor) -> dict[str, np.ndarray]:
    """What the golden keeps of (N, K, H, W) heatmaps: a sub-sampled grid, each map's peak and its moments.

    ``sample`` heatmaps[..., 1::4, 1::4]; ``peak_index`` the flat argmax of every map and ``peak`` its value;
    ``sum`` and ``sum_sq`` over each whole map (float64), so a change anywhere in a map shows.
    """
    hm = heatmaps.detach().float().cpu()
    flat = hm.flatten(2)
    peak, peak_index = flat.max(dim=-1)
    full = flat.double()
    return {
        "sample": hm[..., 1::SAMPLE_STEP, 1::SAMPLE_STEP].contiguous().numpy(),
        "peak": peak.numpy(),
        "peak_index": peak_index.numpy().astype(np.int32),
        "sum": full.sum(-1).numpy(),
        "sum_sq": (full * full).sum(-1).numpy(),
    }
