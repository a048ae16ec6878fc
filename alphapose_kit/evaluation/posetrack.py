"""PoseTrack pose-tracking metrics the way poseval computes them: MOTA per joint, plus IDF1 and ID switches.

poseval (github.com/leonid-pishchulin/poseval, evaluateTracking.py; Andriluka et al., "PoseTrack", CVPR 2018) keeps
one py-motmetrics accumulator per joint and sequence. In each labelled frame a predicted joint may match a
ground-truth joint of the same kind when it lies within 0.5 head sizes (PCKh 0.5; head size = 0.6 x the diagonal of
the head box); the accumulator pairs them (keeping last frame's pairs where still valid) and counts misses, false
positives and ID switches (a ground-truth person whose matched track id changes). Counts are summed over
sequences per joint, MOTA = 1 - (misses + switches + false positives) / ground-truth joints per joint, and the total
is the mean over joints. The 15 joints are PoseTrack18's 17 without the ears; points inside a frame's ignore regions
are removed from ground truth and predictions. IDF1 (Ristani et al., ECCV 2016) comes from the same accumulators.

Two poseval quirks are not reproduced: it drops the last labelled frame of each sequence (``imgidxs[:-1]``), and a
frame without predictions counts one miss and one false positive per joint whatever the number of people.

Layout: ``ANN_DIR/*.json`` are PoseTrack18 files (one or more videos each); the predictions of video ``NAME`` (the
folder of its frames, e.g. ``012834_mpii_test``) are ``RESULTS_DIR/NAME.json`` in PoseTrack18 format (a joint is
absent when x = y = visibility = 0, as poseval reads it) or AlphaPose's format (a list of records whose ``idx`` is
the track id, as ``akit infer --track`` writes), or ``RESULTS_DIR/NAME/alphapose-results.json``. AlphaPose-format
joints scoring below ``keypoint_threshold`` are absent, and poses with no track (idx -1) are left out.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.errors import AkitError

log = logging.getLogger("akit.eval")

# COCO-17's order with the eyes' slots holding the head's bottom and top
POSETRACK18_NAMES = ("nose", "head_bottom", "head_top", *COCO17.names[3:])
# poseval's joints (its Joint class order), as slots of PoseTrack18's 17.
POSEVAL_JOINTS = (
    "right_ankle",
    "right_knee",
    "right_hip",
    "left_hip",
    "left_knee",
    "left_ankle",
    "right_wrist",
    "right_elbow",
    "right_shoulder",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "head_bottom",
    "nose",
    "head_top",
)
_SLOTS = np.array([POSETRACK18_NAMES.index(name) for name in POSEVAL_JOINTS])
PCKH_THRESHOLD = 0.5
HEAD_SIZE_FACTOR = 0.6
_COUNTS = ("num_objects", "num_misses", "num_false_positives", "num_switches", "num_detections", "idtp", "idfp", "idfn")


@dataclass
class Poses:
    """The people of one frame: track ids (N,), joints (N, J, 2), which joints exist (N, J), head sizes (N,) for
    ground truth (NaN where unknown; unused for predictions)."""

    ids: np.ndarray
    points: np.ndarray
    present: np.ndarray
    head_sizes: np.ndarray | None = None

    @classmethod
    def empty(cls, num_joints: int = len(POSEVAL_JOINTS)) -> Poses:
        """A frame with nobody in it."""
        return cls(np.zeros(0, np.int64), np.zeros((0, num_joints, 2)), np.zeros((0, num_joints), bool))


def posetrack18_poses(records: Sequence[tuple[int, Sequence[float], Sequence[float] | None]]) -> Poses:
    """Poses in poseval's 15 joints from PoseTrack18 (track_id, 17 x (x, y, v) keypoints, head box xywh or None)."""
    n = len(records)
    triples = np.array([kp for _, kp, _ in records], np.float64).reshape(n, 17, 3)
    present = ~((triples[..., 0] == 0) & (triples[..., 1] == 0) & (triples[..., 2] == 0))
    heads = np.full(n, np.nan)
    for i, (_, _, head) in enumerate(records):
        if head is not None and len(head) == 4:
            heads[i] = HEAD_SIZE_FACTOR * float(np.hypot(head[2], head[3]))
    ids = np.array([int(t) for t, _, _ in records], np.int64)
    return Poses(ids, triples[:, _SLOTS, :2], present[:, _SLOTS], heads)


def _drop_ignored(poses: Poses, regions: list[np.ndarray]) -> Poses:
    """Remove joints strictly inside any ignore polygon (poseval uses shapely's ``contains``)."""
    if not regions or not len(poses.ids):
        return poses
    present = poses.present.copy()
    for i, j in zip(*np.nonzero(present), strict=True):
        point = (float(poses.points[i, j, 0]), float(poses.points[i, j, 1]))
        if any(cv2.pointPolygonTest(poly, point, False) > 0 for poly in regions):
            present[i, j] = False
    return Poses(poses.ids, poses.points, present, poses.head_sizes)


def joint_accumulators(gt_frames: list[Poses], pred_frames: list[Poses], threshold: float = PCKH_THRESHOLD) -> list:
    """One ``motmetrics.MOTAccumulator`` per joint over a sequence's labelled frames (gt and predictions in step)."""
    import motmetrics as mm

    if len(gt_frames) != len(pred_frames):
        raise ValueError(f"{len(gt_frames)} ground-truth frames but {len(pred_frames)} prediction frames")
    num_joints = gt_frames[0].points.shape[1] if gt_frames else len(POSEVAL_JOINTS)
    accs = [mm.MOTAccumulator(auto_id=True) for _ in range(num_joints)]
    for gt, pr in zip(gt_frames, pred_frames, strict=True):
        if len(set(pr.ids.tolist())) != len(pr.ids):
            raise AkitError(f"two predicted poses share a track id in one frame: {sorted(pr.ids.tolist())}")
        heads = gt.head_sizes if gt.head_sizes is not None else np.full(len(gt.ids), np.nan)
        for j in range(num_joints):
            g = np.flatnonzero(gt.present[:, j])
            p = np.flatnonzero(pr.present[:, j])
            diff = gt.points[g, None, j] - pr.points[None, p, j]
            with np.errstate(invalid="ignore", divide="ignore"):
                dist = np.hypot(diff[..., 0], diff[..., 1]) / heads[g, None]
            dist = np.where(dist <= threshold, dist, np.nan)
            accs[j].update(gt.ids[g].tolist(), pr.ids[p].tolist(), dist)
    return accs


def _percent(num: float, den: float) -> float | None:
    return 100.0 * num / den if den > 0 else None


def summarize(accumulators: list[list], joint_names: tuple[str, ...] = POSEVAL_JOINTS) -> dict[str, Any]:
    """Sum each joint's counts over sequences (``accumulators[sequence][joint]``) into poseval's metrics.

    MOTA, MOTP, precision, recall and IDF1 are in percent (as poseval prints them); "mota" etc. at the top level are
    the mean over joints that have ground truth, "num_switches" the sum over joints.
    """
    import motmetrics as mm

    mh = mm.metrics.create()
    counts = {name: np.zeros(len(joint_names)) for name in (*_COUNTS, "sum_distance")}
    for seq in accumulators:
        for j, acc in enumerate(seq):
            values = mh.compute(acc, metrics=list(_COUNTS), return_dataframe=False)
            for name in _COUNTS:
                counts[name][j] += float(values[name])
            d = float(np.nansum(acc.mot_events["D"].to_numpy())) if len(acc.mot_events) else 0.0
            counts["sum_distance"][j] += d
    per_joint: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(joint_names):
        c = {k: float(v[j]) for k, v in counts.items()}
        errors = c["num_misses"] + c["num_switches"] + c["num_false_positives"]
        per_joint[name] = {
            "mota": 100.0 - _percent(errors, c["num_objects"]) if c["num_objects"] > 0 else None,  # type: ignore[operator]
            "motp": 100.0 - 100.0 * c["sum_distance"] / c["num_detections"] if c["num_detections"] > 0 else None,
            "precision": _percent(c["num_detections"], c["num_detections"] + c["num_false_positives"]),
            "recall": _percent(c["num_detections"], c["num_objects"]),
            "idf1": _percent(2 * c["idtp"], 2 * c["idtp"] + c["idfp"] + c["idfn"]),
            **{k: int(c[k]) for k in ("num_objects", "num_misses", "num_false_positives", "num_switches")},
        }

    def mean(key: str) -> float | None:
        values = [v[key] for v in per_joint.values() if v[key] is not None]
        return float(np.mean(values)) if values else None

    total = {k: float(v.sum()) for k, v in counts.items()}
    return {
        "mota": mean("mota"),
        "motp": mean("motp"),
        "precision": mean("precision"),
        "recall": mean("recall"),
        "idf1": _percent(2 * total["idtp"], 2 * total["idtp"] + total["idfp"] + total["idfn"]),
        "num_switches": int(total["num_switches"]),
        "num_misses": int(total["num_misses"]),
        "num_false_positives": int(total["num_false_positives"]),
        "num_objects": int(total["num_objects"]),
        "per_joint": per_joint,
    }


@dataclass
class _Sequence:
    name: str
    frames: list[str]  # frame file names (basenames), labelled frames only, in frame order
    gt: list[Poses]
    regions: list[list[np.ndarray]]


def _regions(image: dict) -> list[np.ndarray]:
    xs, ys = image.get("ignore_regions_x") or [], image.get("ignore_regions_y") or []
    return [
        np.array(list(zip(x, y, strict=True)), np.float32).reshape(-1, 1, 2)
        for x, y in zip(xs, ys, strict=True)
        if len(x) >= 3
    ]


def load_annotations(ann_dir: str | Path) -> list[_Sequence]:
    """The labelled frames of every video in ``ann_dir/*.json`` (PoseTrack18 format), by video folder name."""
    files = sorted(Path(ann_dir).glob("*.json"))
    if not files:
        raise AkitError(f"no PoseTrack annotation files (*.json) in {ann_dir}")
    sequences: dict[str, _Sequence] = {}
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise AkitError(f"cannot read {path} ({exc})") from None
        if not (isinstance(data, dict) and "images" in data and "annotations" in data):
            log.info("skipping %s: not a PoseTrack18 annotation file", path)
            continue
        images, annotations = data["images"], data["annotations"]
        people = defaultdict(list)
        for n, ann in enumerate(annotations):
            missing = [k for k in ("image_id", "track_id", "keypoints") if not isinstance(ann, dict) or k not in ann]
            if missing:
                raise AkitError(
                    f"{path} is not a PoseTrack18 annotation file: annotation {n} has no {', '.join(missing)} "
                    "(--posetrack takes PoseTrack18's folder of per-video files; score COCO files with --coco)"
                )
            people[ann["image_id"]].append((ann["track_id"], ann["keypoints"], ann.get("bbox_head")))
        for image in sorted(images, key=lambda im: (str(im.get("vid_id", "")), im.get("frame_id", im["id"]))):
            if not people.get(image["id"]):
                continue  # poseval evaluates frames with annotated people only
            name = Path(image["file_name"]).parent.name or path.stem
            seq = sequences.setdefault(name, _Sequence(name, [], [], []))
            basename = Path(image["file_name"]).name
            if basename in seq.frames:
                continue  # the same video in two files (a merged file beside per-video ones)
            regions = _regions(image)
            seq.frames.append(basename)
            seq.gt.append(_drop_ignored(posetrack18_poses(people[image["id"]]), regions))
            seq.regions.append(regions)
    if not sequences:
        raise AkitError(f"no PoseTrack18 annotation file with labelled frames in {ann_dir}")
    return list(sequences.values())


def _alphapose_frames(records: list, path: Path, keypoint_threshold: float) -> dict[str, Poses]:
    by_frame: dict[str, list] = defaultdict(list)
    for rec in records:
        idx = rec.get("idx")
        if isinstance(idx, bool) or not isinstance(idx, int):
            raise AkitError(f"{path} has no track ids (idx {idx!r}); run akit infer with --track")
        if idx >= 0:
            by_frame[Path(str(rec["image_id"])).name].append(rec)
    frames = {}
    for name, recs in by_frame.items():
        triples = np.array([r["keypoints"] for r in recs], np.float64).reshape(len(recs), -1, 3)
        if triples.shape[1] < 17:
            raise AkitError(f"{path}: {triples.shape[1]} joints per pose; PoseTrack needs a COCO-ordered set")
        present = triples[:, :17, 2] >= keypoint_threshold
        frames[name] = Poses(
            np.array([r["idx"] for r in recs], np.int64),
            triples[:, _SLOTS, :2],
            present[:, _SLOTS],
        )
    return frames


def _posetrack_frames(data: dict, path: Path) -> dict[str, Poses]:
    try:
        names = {im["id"]: Path(im["file_name"]).name for im in data["images"]}
        people = defaultdict(list)
        for ann in data["annotations"]:
            people[names[ann["image_id"]]].append((ann["track_id"], ann["keypoints"], None))
    except (KeyError, TypeError) as exc:
        raise AkitError(f"{path} is not a PoseTrack18 prediction file ({exc!r})") from None
    return {name: posetrack18_poses(recs) for name, recs in people.items()}


def load_predictions(results_dir: str | Path, name: str, keypoint_threshold: float = 0.4) -> dict[str, Poses]:
    """Predicted poses of video ``name`` by frame file name (see the module docstring for the layouts read)."""
    results_dir = Path(results_dir)
    candidates = [results_dir / f"{name}.json", results_dir / name / "alphapose-results.json"]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        raise AkitError(f"no predictions for {name}: expected {candidates[0]} or {candidates[1]}")
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AkitError(f"cannot read {path} ({exc})") from None
    if isinstance(data, list):
        return _alphapose_frames(data, path, keypoint_threshold)
    if isinstance(data, dict) and "annotations" in data:
        return _posetrack_frames(data, path)
    raise AkitError(f"{path} is neither AlphaPose results (a list) nor a PoseTrack18 file")


def evaluate_posetrack(
    ann_dir: str | Path,
    results_dir: str | Path,
    outdir: str | Path | None = None,
    keypoint_threshold: float = 0.4,
) -> dict[str, Any]:
    """poseval's tracking metrics for every annotated video; also written to ``outdir/metrics.json`` when given."""
    from alphapose_kit.io.atomic import atomic_write_text
    from alphapose_kit.io.run_dir import ensure_writable_dir

    sequences = load_annotations(ann_dir)
    accumulators = []
    frames = 0
    for seq in sequences:
        preds = load_predictions(results_dir, seq.name, keypoint_threshold)
        pr = [_drop_ignored(preds.get(f, Poses.empty()), r) for f, r in zip(seq.frames, seq.regions, strict=True)]
        accumulators.append(joint_accumulators(seq.gt, pr))
        frames += len(seq.frames)
    metrics = summarize(accumulators)
    metrics.update(sequences=len(sequences), frames=frames, keypoint_threshold=keypoint_threshold)
    log.info("PoseTrack: MOTA %s, IDF1 %s, %d ID switches", metrics["mota"], metrics["idf1"], metrics["num_switches"])
    if outdir is not None:
        path = ensure_writable_dir(outdir) / "metrics.json"
        atomic_write_text(path, iter([json.dumps(metrics, indent=2) + "\n"]))
    return metrics
