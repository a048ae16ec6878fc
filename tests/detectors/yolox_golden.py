"""Inputs of the YOLOX golden test, shared by the test and tests/golden/make_yolox_golden.py (pure torch)."""

from __future__ import annotations

from collections.abc import Mapping

import torch

from tests.models.golden_families import seeded_state_dict

VARIANTS = ("nano", "s")  # depthwise and plain convolutions
IMAGES = ("000000000785.jpg", "000000040083.jpg")  # shared COCO images, 640 x 425 and 500 x 333
ROW_STEP = 97  # the golden keeps every 97th of the 8400 output rows at 640
# objectness and person logit offsets per variant, so that some (nano) to a few hundred (S: AlphaPose's re-NMS of
# more than 100 boxes) boxes pass conf 0.1; without them the seeded networks find no person at all
OFFSETS = {"nano": (-1.7, 0.5), "s": (1.0, 1.5)}


def golden_state(variant: str, template: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The seeded weights of tests/models/golden_families.py with the variant's objectness and person offsets."""
    state = seeded_state_dict(template)
    objectness, person = OFFSETS[variant]
    for level in range(3):
        state[f"head.obj_preds.{level}.bias"] += objectness
        state[f"head.cls_preds.{level}.bias"][0] += person
    return state
