"""Reading VideoPose3D checkpoints (``pretrained_h36m_detectron_coco.bin`` ...) without running pickled code.

The files are ``torch.save`` dicts with ``model_pos`` (the lifter's state dict), ``model_traj`` (optional), the
epoch, learning rate, optimiser state and NumPy's random state (which PyTorch's weights-only reader refuses, so the
restricted unpickler of :mod:`alphapose_kit.io.safe_pickle` reads them, NumPy arrays as inert records).
The architecture is read back from the weights: filter widths, channels, input and output joints.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch

from alphapose_kit.errors import CheckpointError
from alphapose_kit.io.checkpoint import as_state_dict
from alphapose_kit.io.safe_pickle import load_checkpoint
from alphapose_kit.motion3d.videopose3d import TemporalModel, filter_widths_of

VIDEOPOSE3D_URL = "https://dl.fbaipublicfiles.com/video-pose-3d/pretrained_h36m_detectron_coco.bin"


def build_from_state_dict(state: Mapping[str, torch.Tensor], origin: str = "checkpoint") -> TemporalModel:
    """A TemporalModel shaped like ``state`` (widths, channels, joints) with ``state`` loaded strictly."""
    try:
        expand = state["expand_conv.weight"]
        shrink = state["shrink.weight"]
    except KeyError:
        raise CheckpointError(f"{origin} is not a VideoPose3D lifter (no expand_conv / shrink weights)") from None
    widths = filter_widths_of(dict(state))
    in_channels, channels = int(expand.shape[1]), int(expand.shape[0])
    if in_channels % 2 or int(shrink.shape[0]) % 3:
        raise CheckpointError(f"{origin}: a lifter takes (x, y) per joint and gives (x, y, z); its shapes do not")
    model = TemporalModel(in_channels // 2, 2, int(shrink.shape[0]) // 3, widths, channels=channels)
    missing, unexpected = model.load_state_dict(dict(state), strict=False)
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise CheckpointError(
            f"{origin}: not a VideoPose3D TemporalModel ({'missing' if missing else 'unexpected'} {first})"
        )
    return model


def load_videopose3d(path: str | os.PathLike) -> TemporalModel:
    """The position model of a VideoPose3D checkpoint (``model_pos``; a bare state dict works too)."""
    obj = load_checkpoint(path)
    state = obj.get("model_pos") if isinstance(obj, dict) and "model_pos" in obj else obj
    weights = as_state_dict(state)
    if weights is None:
        raise CheckpointError(f"{path} holds no lifter weights (expected VideoPose3D's 'model_pos' state dict)")
    return build_from_state_dict(weights, str(path))
