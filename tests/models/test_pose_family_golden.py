"""Every pose network family against the ORIGINAL AlphaPose model code: same seeded weights, same input, same heatmaps.

tests/golden/pose_family_golden.npz holds what AlphaPose's own classes (c60106d1) computed for the shipped configs
of tests/models/golden_families.py; tests/golden/README.md says how it was made. Here akit builds each config's
network, loads the same seeded weights, runs the same batch and must give the same heatmaps.
FastPose SE-ResNet-50 is covered end to end by tests/engine/test_alphapose_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.models import build_pose_model
from tests.models.golden_families import (
    FAMILIES,
    golden_input,
    heatmap_summary,
    seeded_state_dict,
)
from tests.paths import GOLDEN, REPO

# float32 rounding only. akit runs channels_last (another summation order in oneDNN) and torchvision's deformable
# conv where the golden used the CUDA kernel's formula: measured differences are at most 1.4e-5 of a family's
# heatmap RMS, while a 0.1 % change of a single BN weight (any of ~40 tried per family) moves them by >= 2.5e-4.
REL_TOL = 1e-4


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "pose_family_golden.npz") as data:
        return dict(data)


def akit_heatmaps(family: str) -> torch.Tensor:
    """akit's network for the family's shipped config with the golden's seeded weights, on the golden's input."""
    cfg = load_config(REPO / "configs" / "coco" / FAMILIES[family])
    with torch.device("meta"):  # no random init: every tensor comes from the seeded state dict
        model = build_pose_model(cfg)
    model.load_state_dict(seeded_state_dict(model.state_dict()), strict=True, assign=True)
    model = model.eval().to(memory_format=torch.channels_last)  # as the pipeline runs it
    x = golden_input().contiguous(memory_format=torch.channels_last)
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_heatmaps_equal_the_original(family: str, golden: dict[str, np.ndarray]) -> None:
    heatmaps = akit_heatmaps(family)
    ours = heatmap_summary(heatmaps)
    theirs = {name: golden[f"{family}__{name}"] for name in ours}
    tol = REL_TOL * float(np.sqrt(theirs["sum_sq"].sum() / heatmaps.numel()))  # of the original's heatmap RMS
    pixels = heatmaps.shape[-2] * heatmaps.shape[-1]
    assert ours["sample"].shape == theirs["sample"].shape
    np.testing.assert_allclose(ours["sample"], theirs["sample"], rtol=0, atol=tol)
    np.testing.assert_allclose(ours["peak"], theirs["peak"], rtol=0, atol=tol)
    np.testing.assert_allclose(ours["sum"], theirs["sum"], rtol=0, atol=tol * np.sqrt(pixels))
    np.testing.assert_allclose(ours["sum_sq"], theirs["sum_sq"], rtol=REL_TOL, atol=0)
    # the original's peak is akit's too, up to float ties: there akit's decoder puts the joint
    at_their_peak = heatmaps.flatten(2).gather(-1, torch.from_numpy(theirs["peak_index"]).long()[..., None])[..., 0]
    np.testing.assert_allclose(at_their_peak.numpy(), ours["peak"], rtol=0, atol=tol)
