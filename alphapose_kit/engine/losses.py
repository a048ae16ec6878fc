"""AlphaPose's training losses and the accuracy it logs, chosen by ``LOSS.TYPE`` (``scripts/train.py``,
``alphapose/models/criterion.py``; Fang et al., "AlphaPose", TPAMI 2022).

- ``MSELoss``: ``0.5 * mean((out * w - target * w)^2)``.
- ``L1JointRegression``: ``sum(|soft-argmax(out) - target| * w) / N`` with AlphaPose's *symmetric integral*
  gradient (:class:`SymmetricIntegral`).
- ``Combined``: ``100 * MSE`` on the body/feet heatmaps ``+ 0.01 * L1`` on the face/hand integral joints (the
  factors of ``scripts/train.py``), the hand joints' L1 terms counted ``LOSS.HAND_WEIGHT`` times (akit's key; 1 =
  the released code).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from yacs.config import CfgNode

from alphapose_kit.codecs import (
    CombinedCodec,
    HeatmapCodec,
    IntegralCodec,
    PoseCodec,
    build_codec,
    combined_split,
    integral_coords,
)
from alphapose_kit.data.keypoints import keypoint_set_of
from alphapose_kit.engine.accuracy import heatmap_accuracy, integral_accuracy
from alphapose_kit.errors import ConfigError

LossTarget = torch.Tensor | Sequence[torch.Tensor]


class SymmetricIntegral(torch.autograd.Function):
    """``marginal * arange(L)`` whose backward is AlphaPose's symmetric integral gradient.

    Instead of the true derivative ``j`` of ``sum_j p_j * j`` w.r.t. ``p_j``, the gradient is ``-2`` for the
    positions left of the current expected coordinate and ``+2`` elsewhere (``+2`` everywhere once the coordinate
    passes ``L``), which AlphaPose's integral models are trained with (its ``IngetralCoordinate``).
    """

    AMPLITUDE = 2.0

    @staticmethod
    def forward(ctx: Any, marginal: torch.Tensor) -> torch.Tensor:
        positions = torch.arange(marginal.shape[-1], dtype=marginal.dtype, device=marginal.device)
        out = marginal * positions
        ctx.save_for_backward(positions, out)
        return out

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> torch.Tensor:
        positions, out = ctx.saved_tensors
        coord = out.sum(dim=-1, keepdim=True)
        sign = torch.where((positions < coord) & (coord <= positions.numel()), -1.0, 1.0)
        return grad_output * sign.to(grad_output.dtype) * SymmetricIntegral.AMPLITUDE


def heatmap_mse_loss(output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """AlphaPose's heatmap loss: ``0.5 * MSELoss(output * w, target * w)`` (mean over every element)."""
    return 0.5 * F.mse_loss(output * weight, target * weight)


def integral_l1_loss(
    output: torch.Tensor, target: torch.Tensor, weight: torch.Tensor, norm_type: str = "sigmoid"
) -> torch.Tensor:
    """AlphaPose's ``L1JointRegression``: weighted L1 between the soft-argmax of the logits and the ``(N, 2K)``
    normalised targets, summed and divided by the batch size; gradient through :class:`SymmetricIntegral`."""
    coords, _ = integral_coords(output, norm_type, SymmetricIntegral.apply)
    pred = coords.reshape(output.shape[0], -1)
    return (torch.abs(pred - target) * weight).sum() / output.shape[0]


class PoseCriterion(ABC):
    """Loss and training accuracy of one codec's targets, as AlphaPose logs them; :meth:`from_config` picks the
    criterion of the config's codec (:data:`CRITERIA`)."""

    def __init__(self, codec: PoseCodec, combined_norm_type: str = "sigmoid") -> None:
        self.codec = codec
        self.norm_type = codec.norm_type
        self.combined_norm_type = combined_norm_type

    @property
    def loss_type(self) -> str:
        """The ``LOSS.TYPE`` this criterion trains."""
        return self.codec.name

    @classmethod
    def from_config(cls, cfg: CfgNode) -> PoseCriterion:
        """The criterion a config trains with (the codec the decoder uses; Combined's integral part is trained with
        ``LOSS.LOSS_2.NORM_TYPE``, as AlphaPose does, its hands weighted by ``LOSS.HAND_WEIGHT``)."""
        codec = build_codec(cfg)
        norm_type = cfg.LOSS.LOSS_2.NORM_TYPE or "sigmoid"
        hand_weight = float(cfg.LOSS.HAND_WEIGHT)
        if not (math.isfinite(hand_weight) and hand_weight > 0):
            raise ConfigError(f"LOSS.HAND_WEIGHT must be a positive number, got {cfg.LOSS.HAND_WEIGHT}")
        if hand_weight == 1.0:
            return criterion_for(codec, norm_type)
        if not isinstance(codec, CombinedCodec):
            raise ConfigError(f"LOSS.HAND_WEIGHT weights the hands of LOSS.TYPE Combined, not of {codec.name}")
        keypoint_set = keypoint_set_of(cfg)
        hands = (*keypoint_set.part("left_hand"), *keypoint_set.part("right_hand"))
        return CombinedCriterion(codec, norm_type, hands, hand_weight)

    @abstractmethod
    def loss(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> torch.Tensor:
        """The scalar loss of a batch (differentiable)."""

    @abstractmethod
    def accuracy(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> float:
        """AlphaPose's logged training accuracy of a batch (``calc_accuracy`` / ``calc_integral_accuracy``)."""


class HeatmapCriterion(PoseCriterion):
    """``MSELoss``: :func:`heatmap_mse_loss` and the heatmap accuracy of the weighted maps."""

    def loss(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> torch.Tensor:
        """Half the mean squared error of the weighted heatmaps."""
        return heatmap_mse_loss(output, _single(target), _single(weight))

    def accuracy(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> float:
        """PCK-style accuracy of the weighted heatmaps."""
        w = _single(weight)
        return heatmap_accuracy(output * w, _single(target) * w)


class IntegralCriterion(PoseCriterion):
    """``L1JointRegression``: :func:`integral_l1_loss` and the integral accuracy."""

    def loss(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> torch.Tensor:
        """Weighted L1 of the soft-argmax coordinates."""
        return integral_l1_loss(output, _single(target), _single(weight), self.norm_type)

    def accuracy(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> float:
        """Accuracy of the soft-argmax coordinates."""
        return integral_accuracy(output, _single(target), _single(weight), self.norm_type)


class CombinedCriterion(PoseCriterion):
    """``Combined``: ``100 * MSE`` on the body heatmaps ``+ 0.01 * L1`` on the integral joints (AlphaPose's
    ``scripts/train.py``); the accuracy is the joint-weighted mean of both parts.

    ``hand_joints`` (ids in the K joints, all integral ones) have their L1 terms multiplied by ``hand_weight``:
    AlphaPose's model zoo lists "Combined (10 hand weight)" models (``docs/MODEL_ZOO.md``: "ten times of weight of
    hand keypoints") but its released code and configs carry no such factor, so this is akit's reading of it.
    """

    WEIGHTS = (100.0, 0.01)

    def __init__(
        self,
        codec: PoseCodec,
        combined_norm_type: str = "sigmoid",
        hand_joints: Sequence[int] = (),
        hand_weight: float = 1.0,
    ) -> None:
        super().__init__(codec, combined_norm_type)
        split = combined_split(codec.num_joints)
        if any(not split <= j < codec.num_joints for j in hand_joints):
            raise ConfigError(f"the hand joints of a Combined model must be integral joints ({split}..)")
        scale = torch.ones(codec.num_joints - split)
        scale[[j - split for j in hand_joints]] = float(hand_weight)
        self.integral_scale = scale.repeat_interleave(2)  # x and y of each integral joint

    def loss(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> torch.Tensor:
        """The weighted sum of the heatmap and the integral loss."""
        (hm_t, reg_t), (hm_w, reg_w) = target, weight
        split = hm_t.shape[1]
        body = heatmap_mse_loss(output[:, :split], hm_t, hm_w)
        reg_w = reg_w * self.integral_scale.to(reg_w.device, reg_w.dtype)
        rest = integral_l1_loss(output[:, split:], reg_t, reg_w, self.combined_norm_type)
        return self.WEIGHTS[0] * body + self.WEIGHTS[1] * rest

    def accuracy(self, output: torch.Tensor, target: LossTarget, weight: LossTarget) -> float:
        """Both parts' accuracies, weighted by their joint counts."""
        (hm_t, reg_t), (hm_w, reg_w) = target, weight
        split, k = hm_t.shape[1], output.shape[1]
        body = heatmap_accuracy(output[:, :split] * hm_w, hm_t * hm_w)
        rest = integral_accuracy(output[:, split:], reg_t, reg_w, self.norm_type)
        return body * split / k + rest * (k - split) / k


#: The criterion of each trainable codec.
CRITERIA: dict[type[PoseCodec], type[PoseCriterion]] = {
    HeatmapCodec: HeatmapCriterion,
    IntegralCodec: IntegralCriterion,
    CombinedCodec: CombinedCriterion,
}


def criterion_for(codec: PoseCodec, combined_norm_type: str = "sigmoid") -> PoseCriterion:
    """The criterion that trains ``codec``'s targets; one line naming the trainable loss types otherwise."""
    criterion = CRITERIA.get(type(codec))
    if criterion is None:
        trainable = ", ".join(c.name for c in CRITERIA)
        raise ConfigError(f"LOSS.TYPE {codec.name!r} cannot be trained; use {trainable}")
    return criterion(codec, combined_norm_type)


def _single(value: LossTarget) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError("this LOSS.TYPE takes one target tensor, not a list")
    return value
