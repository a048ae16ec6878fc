"""Per-person time series from ``alphapose-results.json`` (and its ``run.json``): the input of every analysis.

Records are grouped by track id (``idx``, as ``akit infer --track`` writes it). Results written without tracking
(run.json says so, or an ``idx`` is not an int or repeats within a frame) have no people over time: each record is
its own one-frame "person" (fine for angles per person; analyses over time refuse them). A frame's index is the
number in its image name (``<index>.jpg``, AlphaPose's video frame names), or else the order the names first appear.
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
from alphapose_kit.io.run_info import read_run_info, run_keypoint_set
from alphapose_kit.io.run_results import locate_results, stream_records

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
    tracked: bool = True  # False: the results carry no track ids, each record is a person of its own

    def require_tracks(self, analysis: str) -> None:
        """One line when ``analysis`` (over time) is asked of results without track ids."""
        if not self.tracked:
            raise AkitError(
                f"{self.path} has no track ids (written without --track), so {analysis} cannot follow a person "
                "over time; run akit infer --track first (akit analyze angles works per person without)"
            )

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


def resolve_results(path: str | Path) -> tuple[Path, bool]:
    """A results file, or the run folder holding ``alphapose-results.json`` (or only the JSONL stream of a run that
    never finished), and whether it is such a stream; one line when there is none."""
    path, streamed = locate_results(path)
    if not path.is_file():
        raise AkitError(f"results file not found: {path}")
    return path, streamed


def _frame_indices(image_ids: list[str]) -> np.ndarray:
    stems = [i.rsplit("/", 1)[-1].split(".", 1)[0] for i in image_ids]
    if all(stem.isdigit() for stem in stems):
        return np.array(stems).astype(np.int64)
    order: dict[str, int] = {}
    return np.array([order.setdefault(i, len(order)) for i in image_ids], np.int64)


def _track_ids(records: list[dict], frames: np.ndarray, info: dict[str, Any]) -> np.ndarray | None:
    """The records' int track ids, or None when the results were not tracked."""
    if (info.get("options") or {}).get("track") is False:
        return None
    raw = [r.get("idx") for r in records]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in raw):
        return None
    ids = np.array(raw, np.int64)
    pairs = np.stack([frames, ids], axis=1)
    if len(np.unique(pairs, axis=0)) != len(pairs):  # one id twice in a frame: detection ids, not tracks
        return None
    return ids


def _keypoint_set(name: str | None, info: dict[str, Any], num_joints: int) -> KeypointSet:
    """``--keypoints``, else run.json's set (its definition travels with the results), else by joint count."""
    if name:
        return get_keypoint_set(name)
    recorded = run_keypoint_set(info)
    if isinstance(recorded, KeypointSet):
        return recorded
    return get_keypoint_set(recorded or num_joints)


def load_recording(
    results: str | Path, fps: float | None = None, keypoints: str | None = None, min_frames: int = 1
) -> Recording:
    """Read a results file (or run folder) into tracks; ``fps`` overrides run.json's; ``keypoints`` names the set
    (default: run.json's, else by joint count); tracks shorter than ``min_frames`` are left out."""
    path, streamed = resolve_results(results)
    try:
        records = stream_records(path) if streamed else _loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise AkitError(f"cannot read {path} ({exc})") from None
    if not isinstance(records, list):
        raise AkitError(f"{path} is not AlphaPose results (a list of records, as akit infer --format alphapose writes)")
    info = read_run_info(path) or {}
    rate = fps if fps else info.get("fps")
    if fps is not None and fps <= 0:
        raise AkitError(f"--fps must be positive, got {fps}")
    if not records:
        return Recording({}, _keypoint_set(keypoints, info, 17), rate, path, info)
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
    keypoint_set = _keypoint_set(keypoints, info, num_joints)
    if keypoint_set.num_joints != num_joints:
        raise AkitError(
            f"keypoint set {keypoint_set.name} has {keypoint_set.num_joints} joints, results have {num_joints}"
        )
    triples = triples.reshape(-1, num_joints, 3)
    boxes[:, 2:] += boxes[:, :2]  # xywh -> x1y1x2y2
    frames = _frame_indices(image_ids)
    ids = _track_ids(records, frames, info)
    tracked = ids is not None
    if ids is None:
        ids = np.arange(len(records), dtype=np.int64)
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
    return Recording(tracks, keypoint_set, rate, path, info, names, tracked)
