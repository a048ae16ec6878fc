"""``akit lift``: every track of an ``akit infer --track`` run lifted to 3D, written as ``poses3d.json``.

Each track's COCO-17 keypoints (the first 17 joints of COCO-17, Halpe and COCO-WholeBody results) over its frames,
with frames the track missed filled by linear interpolation (VideoPose3D's custom-video recipe interpolates missed
detections too), go through :func:`alphapose_kit.motion3d.lifting.lift_track`. ``poses3d.json`` is a list of
``{"frame", "idx", "keypoints3d": [x, y, z, score] * 17, "reprojection_error": null}`` in Human3.6M's joint order,
metres, root-relative, the score being the 2D joint score it came from (0 for an interpolated frame) - the same
layout ``akit triangulate`` writes, so ``akit analyze`` reads either.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.analysis.series import load_recording
from alphapose_kit.data.h36m import H36M17
from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.io.run_dir import claim_outdir, ensure_writable_dir
from alphapose_kit.motion3d.checkpoint import load_videopose3d
from alphapose_kit.motion3d.lifting import lift_track
from alphapose_kit.motion3d.options import LiftOptions
from alphapose_kit.utils.device import resolve_device

log = logging.getLogger("akit.lift")
POSES3D_NAME = "poses3d.json"


@dataclass
class LiftResult:
    """Where the 3D went and how much of it there is."""

    path: Path
    tracks: int
    frames: int


def fill_gaps(frames: np.ndarray, keypoints: np.ndarray, scores: np.ndarray):
    """A track over every frame from its first to its last: missing frames interpolated linearly per coordinate,
    their scores 0. -> (frames, (T, K, 2), (T, K))."""
    every = np.arange(int(frames[0]), int(frames[-1]) + 1)
    flat = keypoints.reshape(len(frames), -1)
    filled = np.stack([np.interp(every, frames, flat[:, c]) for c in range(flat.shape[1])], axis=1)
    full_scores = np.zeros((len(every), scores.shape[1]))
    full_scores[frames - every[0]] = scores
    return every, filled.reshape(len(every), *keypoints.shape[1:]), full_scores


def _frame_size(options: LiftOptions, info: dict[str, Any]) -> tuple[int, int]:
    width, height = options.width or info.get("width"), options.height or info.get("height")
    if not width or not height:
        raise AkitError("the frame size is unknown (no run.json with width and height); pass --width and --height")
    return int(width), int(height)


def _outdir(options: LiftOptions) -> Path:
    return ensure_writable_dir(claim_outdir("lift", options.outdir, (POSES3D_NAME,), exist_ok=options.exist_ok))


def lift(options: LiftOptions | None = None, **kwargs: Any) -> LiftResult:
    """Run ``akit lift``: read the tracks, lift each one, write ``poses3d.json`` (keyword arguments build the
    :class:`LiftOptions` when ``options`` is None)."""
    options = options or LiftOptions(**kwargs)
    options.validate()
    recording = load_recording(options.results, fps=options.fps, min_frames=options.min_frames)
    names = recording.keypoint_set.names[: COCO17.num_joints]
    if names != COCO17.names:
        raise AkitError(
            f"{recording.path}: lifting takes COCO-17 body joints; keypoint set {recording.keypoint_set.name} "
            "does not start with them"
        )
    width, height = _frame_size(options, recording.run_info)
    if not recording.tracks:
        raise AkitError(f"{recording.path}: nobody to lift (no tracks with at least {options.min_frames} frames)")
    from alphapose_kit.hub.zoo import resolve_weights

    device = resolve_device(options.device)
    model = load_videopose3d(resolve_weights(options.checkpoint, kind="lifter")).to(device)
    if model.joints_in != COCO17.num_joints or model.joints_out != H36M17.num_joints:
        raise AkitError(
            f"{options.checkpoint}: the lifter maps {model.joints_in} to {model.joints_out} joints; akit lift needs "
            "a COCO-17 -> Human3.6M-17 model such as pretrained_h36m_detectron_coco.bin"
        )
    records: list[dict[str, Any]] = []
    frames_out = 0
    for track in recording.select(None):
        frames, kps, scores = fill_gaps(track.frames, track.keypoints[:, :17], track.scores[:, :17])
        joints = lift_track(model, kps, width, height, flip=options.flip, device=device)
        frames_out += len(frames)
        for t, frame in enumerate(frames.tolist()):
            values = np.concatenate([joints[t], _h36m_scores(scores[t])], axis=1)
            keypoints3d = np.round(values, 6).reshape(-1).tolist()
            records.append(
                {"frame": frame, "idx": track.track_id, "keypoints3d": keypoints3d, "reprojection_error": None}
            )
    records.sort(key=lambda r: (r["frame"], r["idx"]))
    folder = _outdir(options)
    path = folder / POSES3D_NAME
    atomic_write_text(path, iter([json.dumps(records) + "\n"]))
    log.info("lifted %d tracks, %d frames -> %s", len(recording.tracks), frames_out, path)
    return LiftResult(path, len(recording.tracks), frames_out)


# Which COCO-17 joints stand behind each Human3.6M joint's score (hip, spine, thorax and head have none of their own)
_H36M_FROM_COCO = (
    (11, 12), (12,), (14,), (16,), (11,), (13,), (15,), (5, 6, 11, 12), (5, 6), (0,), (1, 2, 3, 4),
    (5,), (7,), (9,), (6,), (8,), (10,),
)  # fmt: skip


def _h36m_scores(coco_scores: np.ndarray) -> np.ndarray:
    """A (17, 1) score per Human3.6M joint: the least confident of the COCO joints it is made from."""
    return np.array([[min(float(coco_scores[j]) for j in sources)] for sources in _H36M_FROM_COCO])
