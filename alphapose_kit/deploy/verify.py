"""An exported network against PyTorch on real inputs: max abs output error and keypoint (or box) agreement.

Keypoint agreement is the fraction of (person, joint) pairs whose decoded keypoint lies within
:data:`AGREE_RADIUS` heatmap pixels (4 input pixels at AlphaPose's stride) of PyTorch's; heatmaps are decoded the way
the config's ``LOSS.TYPE`` says, so it measures what ``akit infer`` would write.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import torch

from alphapose_kit.codecs import decode_pose
from alphapose_kit.errors import AkitError
from alphapose_kit.ops.similarity import paired_iou

AGREE_RADIUS = 1.0  # heatmap pixels
BOX_IOU = 0.9  # a detector candidate agrees when both models keep it, same class, boxes at this IoU or more
Network = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Tolerance:
    """When an export fails: ``max_abs_error > atol + rtol * max|reference|`` or agreement below ``min_agreement``."""

    rtol: float
    atol: float
    min_agreement: float


#: Detector candidates scoring less than this above the threshold are not compared (they may fall either side of it).
CONFIDENT_MARGIN = 0.1
TOLERANCES = {
    "fp32": Tolerance(rtol=1e-3, atol=1e-5, min_agreement=0.99),
    "fp16": Tolerance(rtol=2e-2, atol=1e-3, min_agreement=0.95),
    "int8": Tolerance(rtol=math.inf, atol=math.inf, min_agreement=0.90),  # heatmap error reported, not limited
}


@dataclass(frozen=True)
class Comparison:
    """How far an exported network's outputs are from PyTorch's on ``samples`` inputs."""

    samples: int
    max_abs_error: float
    reference_max: float  # max |output| of the reference: the scale the error is judged against
    agreement: float  # keypoints (pose) or boxes (detector) that agree, 0..1
    mean_distance: float  # pose: mean keypoint distance in heatmap pixels; detector: 1 - mean IoU of candidates
    unit: str = "keypoint"

    def line(self) -> str:
        """One line for the CLI: the max abs error and the agreement."""
        return (
            f"max abs {'heatmap' if self.unit == 'keypoint' else 'output'} error {self.max_abs_error:.3g} "
            f"(outputs up to {self.reference_max:.3g}), {self.unit} agreement {100 * self.agreement:.2f} % "
            f"on {self.samples} real {'crops' if self.unit == 'keypoint' else 'images'}"
        )

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


def run_batched(network: Network, inputs: np.ndarray, batch: int = 8) -> np.ndarray:
    """``network`` over ``inputs`` in batches (no autograd), as one float32 array."""
    outputs = []
    with torch.inference_mode():
        for start in range(0, len(inputs), batch):
            chunk = torch.from_numpy(np.ascontiguousarray(inputs[start : start + batch]))
            out = network(chunk)
            out = out[0] if isinstance(out, (tuple, list)) else out
            outputs.append(out.float().cpu().numpy())
    return np.concatenate(outputs)


def compare_heatmaps(reference: np.ndarray, candidate: np.ndarray, loss_type: str, norm_type: str) -> Comparison:
    """Heatmap error and keypoint agreement of two ``(N, K, h, w)`` outputs decoded as ``loss_type`` says."""
    if reference.shape != candidate.shape:
        raise AkitError(f"the exported model returns {candidate.shape}, PyTorch {reference.shape}")
    ref_xy, _ = decode_pose(torch.from_numpy(reference), loss_type, norm_type)
    cand_xy, _ = decode_pose(torch.from_numpy(candidate), loss_type, norm_type)
    distance = np.linalg.norm(np.asarray(ref_xy, np.float64) - np.asarray(cand_xy, np.float64), axis=-1)
    return Comparison(
        samples=len(reference),
        max_abs_error=float(np.abs(reference.astype(np.float64) - candidate).max()),
        reference_max=float(np.abs(reference).max()),
        agreement=float(np.mean(distance <= AGREE_RADIUS)),
        mean_distance=float(distance.mean()),
    )


def compare_pose_networks(
    reference: Network, candidate: Network, crops: np.ndarray, loss_type: str, norm_type: str, batch: int = 8
) -> Comparison:
    """Run both networks on the same normalised crops and compare (see :func:`compare_heatmaps`)."""
    return compare_heatmaps(
        run_batched(reference, crops, batch), run_batched(candidate, crops, batch), loss_type, norm_type
    )


def _boxes_scores(pred: np.ndarray, score: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x1y1x2y2 boxes, scores and classes of every anchor of a YOLO prediction ``(..., 5 + C)``."""
    xy, half = pred[..., :2], pred[..., 2:4] / 2
    class_score, labels = pred[..., 5:].max(-1), pred[..., 5:].argmax(-1)
    scores = pred[..., 4] * class_score if score == "objectness*class" else pred[..., 4]
    return np.concatenate([xy - half, xy + half], -1).reshape(-1, 4), scores.reshape(-1), labels.reshape(-1)


def candidate_agreement(
    reference: np.ndarray,
    candidate: np.ndarray,
    conf: float,
    score: str = "objectness",
    classes: tuple[int, ...] | None = (0,),
) -> tuple[float, float, int]:
    """How well two YOLO prediction tensors agree on the boxes NMS starts from, anchor by anchor.

    Counted are the anchors that either model scores at least ``conf + CONFIDENT_MARGIN`` (in ``classes``); one
    agrees when both models keep it (score > ``conf``), give it the same class and boxes at IoU >= BOX_IOU. NMS is
    a deterministic function of these candidates, but it can swap near-tied boxes on a perturbation of 1e-6, so the
    boxes after NMS are not what is compared. Returns (agreement, 1 - mean IoU, anchors counted).
    """
    ref_boxes, ref_scores, ref_labels = _boxes_scores(reference.astype(np.float64), score)
    cand_boxes, cand_scores, cand_labels = _boxes_scores(candidate.astype(np.float64), score)
    wanted = np.ones_like(ref_labels, dtype=bool)
    if classes is not None:
        wanted = np.isin(ref_labels, classes) | np.isin(cand_labels, classes)
    counted = wanted & ((ref_scores >= conf + CONFIDENT_MARGIN) | (cand_scores >= conf + CONFIDENT_MARGIN))
    if not counted.any():
        return 1.0, 0.0, 0
    iou = paired_iou(ref_boxes[counted], cand_boxes[counted])
    same = (ref_scores[counted] > conf) & (cand_scores[counted] > conf) & (ref_labels[counted] == cand_labels[counted])
    return float(np.mean(same & (iou >= BOX_IOU))), float(1 - iou.mean()), int(counted.sum())


def check_tolerance(comparison: Comparison, tolerance: Tolerance, what: str) -> None:
    """One line when ``comparison`` is beyond ``tolerance`` (the caller then removes the exported file)."""
    limit = tolerance.atol + tolerance.rtol * comparison.reference_max
    if not comparison.max_abs_error <= limit:
        raise AkitError(
            f"{what} differs from PyTorch: max abs error {comparison.max_abs_error:.3g} > tolerance {limit:.3g}; "
            "nothing written"
        )
    if comparison.agreement < tolerance.min_agreement:
        raise AkitError(
            f"{what} disagrees with PyTorch: {comparison.unit} agreement {100 * comparison.agreement:.2f} % < "
            f"{100 * tolerance.min_agreement:.0f} %; nothing written"
        )
