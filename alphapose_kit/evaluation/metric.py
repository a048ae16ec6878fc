"""COCO's keypoint metric: pycocotools' ``COCOeval(..., "keypoints")`` restricted to the evaluated images, with the
keypoint set's own OKS sigmas, and the standard ten numbers as a dict.

Restricting ``params.imgIds`` matters: scored against every image of the annotation file, a results file that
covers a subset loses all the people of the other images (tf-cpn issue #16). Setting
``params.kpt_oks_sigmas`` lets any joint count be scored (pycocotools' default only knows COCO's 17).
"""

from __future__ import annotations

import contextlib
import copy
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

STAT_KEYS = ("AP", "AP50", "AP75", "APm", "APl", "AR", "AR50", "AR75", "ARm", "ARl")
# pycocotools' summary lines: (AP or AR, OKS threshold label, area range), in STAT_KEYS order
_TABLE_ROWS = (
    ("Precision", "0.50:0.95", "all"),
    ("Precision", "0.50", "all"),
    ("Precision", "0.75", "all"),
    ("Precision", "0.50:0.95", "medium"),
    ("Precision", "0.50:0.95", "large"),
    ("Recall", "0.50:0.95", "all"),
    ("Recall", "0.50", "all"),
    ("Recall", "0.75", "all"),
    ("Recall", "0.50:0.95", "medium"),
    ("Recall", "0.50:0.95", "large"),
)


@contextlib.contextmanager
def quiet_stdout():
    """pycocotools prints progress on stdout; a library must not."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def coco_index(dataset: dict[str, Any]) -> COCO:
    """A pycocotools COCO object over an already-loaded annotation dict (no second read of the file)."""
    coco = COCO()
    coco.dataset = dataset
    with quiet_stdout():
        coco.createIndex()
    return coco


@dataclass
class KeypointEval:
    """One COCOeval run: the ten numbers, the AP at each OKS threshold, and the evaluator (for diagnostics)."""

    stats: dict[str, float]
    ap_by_oks: dict[str, float]
    cocoeval: COCOeval


def evaluate_keypoints(
    gt: COCO, results: Sequence[dict[str, Any]], image_ids: Iterable[int], sigmas: np.ndarray
) -> KeypointEval:
    """COCOeval('keypoints') of ``results`` (COCO results format, integer image ids) on ``image_ids`` only.

    ``results`` are copied first: pycocotools' ``loadRes`` adds ``area``, ``id`` and ``bbox`` fields in place.
    """
    if not results:
        raise ValueError("no results to evaluate")
    ids = sorted({int(i) for i in image_ids})
    with quiet_stdout():
        dt = gt.loadRes(copy.deepcopy(list(results)))
        ev = COCOeval(gt, dt, "keypoints")
        ev.params.imgIds = ids
        ev.params.kpt_oks_sigmas = np.asarray(sigmas, np.float64)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    stats = {key: float(value) for key, value in zip(STAT_KEYS, ev.stats, strict=True)}
    return KeypointEval(stats, ap_by_oks_threshold(ev), ev)


def ap_by_oks_threshold(ev: COCOeval) -> dict[str, float]:
    """AP (all areas, 20 detections) at each OKS threshold 0.50 ... 0.95, as ``summarize`` averages it."""
    precision = ev.eval["precision"][:, :, :, 0, -1]  # [T, R, K] for area 'all', the last maxDets
    out = {}
    for t, thr in enumerate(ev.params.iouThrs):
        values = precision[t]
        valid = values[values > -1]
        out[f"{thr:.2f}"] = float(np.mean(valid)) if valid.size else -1.0
    return out


def format_table(stats: dict[str, float]) -> str:
    """The ten numbers in pycocotools' own summary layout, line for line (its "IoU" label means OKS here)."""
    lines = []
    for key, (kind, thr, area) in zip(STAT_KEYS, _TABLE_ROWS, strict=True):
        title = f"Average {kind}"
        short = "(AP)" if kind == "Precision" else "(AR)"
        lines.append(f" {title:<18} {short} @[ IoU={thr:<9} | area={area:>6s} | maxDets= 20 ] = {stats[key]:0.3f}")
    return "\n".join(lines)
