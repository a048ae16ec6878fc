"""What to fix: per-joint accuracy and error, and left/right swaps, over the people COCOeval matched.

The matches are pycocotools' own (all areas, 20 detections per image, OKS >= 0.5, crowd and zero-keypoint people
ignored), so the diagnostics describe exactly the people behind AP50. Per joint (labelled in the ground truth), with
COCO's per-joint similarity ``ks = exp(-d^2 / (2 * area * (2 sigma)^2))``:

- ``accuracy``: ks >= t averaged over COCO's OKS thresholds 0.50, 0.55, ..., 0.95 (1.0 = within all of them);
- ``mean_error``: mean of d / sqrt(area), the distance in units of the person's scale.

A left/right pair counts as swapped when exchanging the two predicted joints raises the person's OKS (the sum of
their two ks values; both joints labelled), the error users see as flipped limbs (cocoapi issue #601).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from pycocotools.cocoeval import COCOeval

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.ops.similarity import keypoint_similarity


def _joint_similarity(pred: np.ndarray, gt: np.ndarray, area: float, variances: np.ndarray) -> np.ndarray:
    """COCO's per-joint ks between (..., K, 2) predictions and (K, 2) ground truth (same formula as computeOks)."""
    return keypoint_similarity(((pred - gt) ** 2).sum(axis=-1), variances, area + np.spacing(1))


def matched_pairs(ev: COCOeval) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(ground truth, prediction) annotation pairs COCOeval matched at OKS 0.5 over all areas."""
    thr = int(np.argmin(np.abs(ev.params.iouThrs - 0.5)))
    all_areas = ev.params.areaRng[ev.params.areaRngLbl.index("all")]
    pairs = []
    for item in ev.evalImgs:
        if item is None or item["aRng"] != all_areas:
            continue
        for dt_id, gt_id, ignored in zip(item["dtIds"], item["dtMatches"][thr], item["dtIgnore"][thr], strict=True):
            if gt_id > 0 and not ignored:
                pairs.append((ev.cocoGt.anns[int(gt_id)], ev.cocoDt.anns[int(dt_id)]))
    return pairs


def joint_diagnostics(ev: COCOeval, keypoint_set: KeypointSet) -> dict[str, Any]:
    """Per-joint accuracy / mean error and left/right swap counts over the matched people."""
    k = keypoint_set.num_joints
    variances = (keypoint_set.sigma_array * 2) ** 2
    thresholds = np.asarray(ev.params.iouThrs, np.float64)
    hits = np.zeros(k)
    errors = np.zeros(k)
    counts = np.zeros(k, np.int64)
    swaps = {pair: 0 for pair in keypoint_set.flip_pairs}
    eligible = {pair: 0 for pair in keypoint_set.flip_pairs}
    pairs = matched_pairs(ev)
    for gt, dt in pairs:
        g = np.asarray(gt["keypoints"], np.float64).reshape(k, 3)
        p = np.asarray(dt["keypoints"], np.float64).reshape(k, 3)[:, :2]
        area = float(gt["area"])
        labelled = g[:, 2] > 0
        ks = _joint_similarity(p, g[:, :2], area, variances)
        dist = np.sqrt(((p - g[:, :2]) ** 2).sum(axis=1)) / np.sqrt(max(area, np.spacing(1)))
        hits[labelled] += (ks[labelled, None] >= thresholds[None]).mean(axis=1)
        errors[labelled] += dist[labelled]
        counts[labelled] += 1
        for a, b in keypoint_set.flip_pairs:
            if labelled[a] and labelled[b]:
                eligible[(a, b)] += 1
                crossed = _joint_similarity(p[[b, a]], g[[a, b], :2], area, variances[[a, b]]).sum()
                if crossed > ks[a] + ks[b]:
                    swaps[(a, b)] += 1
    names = keypoint_set.names
    return {
        "matched_people": len(pairs),
        "per_joint": {
            names[j]: {
                "accuracy": float(hits[j] / counts[j]) if counts[j] else None,
                "mean_error": float(errors[j] / counts[j]) if counts[j] else None,
                "count": int(counts[j]),
            }
            for j in range(k)
        },
        "swaps": {
            "total": int(sum(swaps.values())),
            "pairs": {
                f"{names[a]}/{names[b]}": {"swapped": swaps[(a, b)], "of": eligible[(a, b)]}
                for a, b in keypoint_set.flip_pairs
            },
        },
    }


def format_joints(diagnostics: dict[str, Any], names: Sequence[str] | None = None) -> str:
    """A small table: joint, accuracy, mean error, count; then the swap counts."""
    per_joint = diagnostics["per_joint"]
    lines = [
        f" per joint over {diagnostics['matched_people']} matched people (OKS >= 0.5)",
        "   joint            acc    err    n",
    ]
    for name in names or per_joint:
        row = per_joint[name]
        acc = "   -  " if row["accuracy"] is None else f"{row['accuracy']:6.3f}"
        err = "   -  " if row["mean_error"] is None else f"{row['mean_error']:6.3f}"
        lines.append(f"   {name:<15} {acc} {err} {row['count']:4d}")
    swaps = diagnostics["swaps"]
    swapped = [f"{pair} {v['swapped']}/{v['of']}" for pair, v in swaps["pairs"].items() if v["swapped"]]
    lines.append(f" left/right swaps: {swaps['total']}" + (f" ({', '.join(swapped)})" if swapped else ""))
    return "\n".join(lines)
