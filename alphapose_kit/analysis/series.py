"""Per-person time series from ``alphapose-results.json`` (and its ``run.json``): the input of every analysis.

Records are grouped by track id (``idx``, as ``akit infer --track`` writes it). Results written without tracking
(``idx`` not an int) are tracked here with :class:`~alphapose_kit.track.PoseTracker`. A frame's index is the number
in its image name (``<index>.jpg``, AlphaPose's video frame names), or else the order the names first appear.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.data.keypoints import KeypointSet, get_keypoint_set
from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_info import read_run_info
from alphapose_kit.io.writers import JSON_NAME

log = logging.getLogger("akit.analysis")


@dataclass
class Track:
    """One person over time: frame indices (T,), keypoints (T, K, 2), joint scores (T, K), boxes (T, 4) x1y1x2y2."""

    track_id: int
    frames: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray
    boxes: np.ndarray

    def __len__(self) -> int:
        return int(self.frames.shape[0])


@dataclass
class Recording:
    """Every track of one results file, the keypoint set naming its joints, and the time base (None if unknown)."""

    tracks: dict[int, Track]
    keypoint_set: KeypointSet
    fps: float | None
    path: Path
    run_info: dict[str, Any] = field(default_factory=dict)
    image_ids: dict[int, str] = field(default_factory=dict)  # frame index -> image name (for key frames)

    def require_fps(self) -> float:
        """The frame rate, or one line saying how to give it."""
        if not self.fps:
            raise AkitError(f"no frame rate for {self.path}: no run.json with fps beside it; pass --fps")
        return self.fps

    def select(self, person: int | None) -> list[Track]:
        """The track ``person`` (one line if absent), or every track, longest first."""
        if person is not None:
            if person not in self.tracks:
                known = ", ".join(str(t) for t in sorted(self.tracks)) or "none"
                raise AkitError(f"no person {person} in {self.path} (track ids: {known})")
            return [self.tracks[person]]
        return sorted(self.tracks.values(), key=lambda t: (-len(t), t.track_id))


def _loads(data: bytes) -> Any:
    try:
        import orjson

        return orjson.loads(data)
    except ImportError:  # pragma: no cover - orjson is a dependency; plain json is only slower
        return json.loads(data)


def resolve_results(path: str | Path) -> Path:
    """A results file, or the run folder holding ``alphapose-results.json``; one line when there is none."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    if not path.is_file():
        raise AkitError(f"results file not found: {path}")
    return path


def _frame_indices(image_ids: list[str]) -> np.ndarray:
    stems = [i.rsplit("/", 1)[-1].split(".", 1)[0] for i in image_ids]
    if all(stem.isdigit() for stem in stems):
        return np.array(stems).astype(np.int64)
    order: dict[str, int] = {}
    return np.array([order.setdefault(i, len(order)) for i in image_ids], np.int64)


def _track_ids(records: list[dict], frames: np.ndarray, keypoints, scores, boxes) -> np.ndarray:
    """The records' int idx, or ids from running the tracker frame by frame when the results were not tracked."""
    raw = [r.get("idx") for r in records]
    if all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        return np.array(raw, np.int64)
    from alphapose_kit.track import PoseTracker

    log.info("results have no track ids; tracking them now")
    ids = np.full(len(records), -1, np.int64)
    box_scores = np.array([float(r.get("score", 1.0)) for r in records])
    box_scores = np.clip(box_scores / max(box_scores.max(initial=1.0), 1.0), 0, 1)  # person scores go up to ~3
    tracker = PoseTracker(track_thresh=0.0, low_thresh=0.0, new_track_thresh=0.0)
    order = np.argsort(frames, kind="stable")
    bounds = np.flatnonzero(np.diff(frames[order])) + 1
    for chunk in np.split(order, bounds):
        ids[chunk] = tracker.update(boxes[chunk], box_scores[chunk], keypoints[chunk], scores[chunk])
    return ids


def load_recording(
    results: str | Path, fps: float | None = None, keypoints: str | None = None, min_frames: int = 1
) -> Recording:
    """Read a results file (or run folder) into tracks; ``fps`` overrides run.json's; ``keypoints`` names the set
    (default: run.json's, else by joint count); tracks shorter than ``min_frames`` are left out."""
    path = resolve_results(results)
    try:
        records = _loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AkitError(f"cannot read {path} ({exc})") from None
    if not isinstance(records, list):
        raise AkitError(f"{path} is not AlphaPose results (a list of records, as akit infer --format alphapose writes)")
    info = read_run_info(path) or {}
    rate = fps if fps else info.get("fps")
    if fps is not None and fps <= 0:
        raise AkitError(f"--fps must be positive, got {fps}")
    if not records:
        name = keypoints or (info.get("model") or {}).get("keypoint_set") or "coco17"
        return Recording({}, get_keypoint_set(name), rate, path, info)
    for n, record in enumerate(records):
        missing = [k for k in ("image_id", "keypoints", "box") if not isinstance(record, dict) or k not in record]
        if missing:
            raise AkitError(f"{path}: entry {n} is not an AlphaPose result (it has no {', '.join(missing)})")
    try:
        triples = np.array([r["keypoints"] for r in records], np.float64)
        boxes = np.array([r["box"] for r in records], np.float64).reshape(-1, 4)
    except (TypeError, ValueError):
        raise AkitError(f"{path}: keypoints and boxes must be lists of numbers of one length in every entry") from None
    image_ids = [str(r["image_id"]) for r in records]
    if triples.ndim != 2 or triples.shape[1] % 3:
        raise AkitError(f"{path}: keypoints are not (x, y, score) triples of one length")
    num_joints = triples.shape[1] // 3
    name = keypoints or (info.get("model") or {}).get("keypoint_set") or num_joints
    keypoint_set = get_keypoint_set(name)
    if keypoint_set.num_joints != num_joints:
        raise AkitError(
            f"keypoint set {keypoint_set.name} has {keypoint_set.num_joints} joints, results have {num_joints}"
        )
    triples = triples.reshape(-1, num_joints, 3)
    boxes[:, 2:] += boxes[:, :2]  # xywh -> x1y1x2y2
    frames = _frame_indices(image_ids)
    ids = _track_ids(records, frames, triples[..., :2], triples[..., 2], boxes)
    tracks = {}
    keep = ids >= 0
    order = np.lexsort((frames, ids))
    order = order[keep[order]]
    bounds = np.flatnonzero(np.diff(ids[order])) + 1
    for chunk in np.split(order, bounds) if order.size else []:
        if chunk.size < min_frames:
            continue
        track_id = int(ids[chunk[0]])
        tracks[track_id] = Track(track_id, frames[chunk], triples[chunk, :, :2], triples[chunk, :, 2], boxes[chunk])
    names = dict(zip(frames.tolist(), image_ids, strict=True))
    return Recording(tracks, keypoint_set, rate, path, info, names)
