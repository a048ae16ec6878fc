"""3D stick figures walking past four virtual cameras, and the AlphaPose results those cameras would write.

A walker's pelvis moves along world x at hip height 0.92 m (Z up); each leg swings in the walking plane with thigh
angle ``swing`` from the vertical and knee flexion ``flex`` (so the 3D knee angle is 180 - flex), on a step rhythm
that speeds up over time so the motion never repeats (which lets the cameras be synchronised from it)."""

from __future__ import annotations

import json

import numpy as np

from alphapose_kit.io.run_info import write_run_info
from alphapose_kit.multiview.camera import Camera
from tests.multiview.synthetic import camera

THIGH, SHANK, ARM, FOREARM = 0.45, 0.43, 0.3, 0.27


def walker(frames: int, fps: float, start: float, speed: float, lateral: float) -> tuple[np.ndarray, np.ndarray]:
    """(T, 17, 3) COCO-17 joints in metres and the (T, 2) left/right knee flexion in degrees."""
    t = np.arange(frames) / fps
    phase = 2 * np.pi * (0.8 * t + 0.1 * t**2)
    heading = np.sign(speed) or 1.0
    pelvis = np.stack([start + speed * t, np.full_like(t, lateral), np.full_like(t, 0.92)], axis=1)
    side = np.array([0.0, heading * 0.1, 0.0])  # the left side of someone walking along +x is +y
    joints = np.zeros((frames, 17, 3))
    flexes = []
    for k, sign in enumerate((1.0, -1.0)):  # left, right
        swing = np.radians(25 * sign * np.sin(phase))
        flex = 5 + 27.5 * (1 - np.cos(phase + (0 if sign > 0 else np.pi)))
        hip = pelvis + sign * side
        knee = hip + THIGH * np.stack([heading * np.sin(swing), 0 * swing, -np.cos(swing)], axis=1)
        shank = swing - np.radians(flex)
        ankle = knee + SHANK * np.stack([heading * np.sin(shank), 0 * shank, -np.cos(shank)], axis=1)
        shoulder = pelvis + sign * 1.8 * side + [0, 0, 0.5]
        arm = -0.6 * swing
        elbow = shoulder + ARM * np.stack([heading * np.sin(arm), 0 * arm, -np.cos(arm)], axis=1)
        wrist = elbow + FOREARM * np.stack([heading * np.sin(arm + 0.5), 0 * arm, -np.cos(arm + 0.5)], axis=1)
        joints[:, 5 + k], joints[:, 7 + k], joints[:, 9 + k] = shoulder, elbow, wrist
        joints[:, 11 + k], joints[:, 13 + k], joints[:, 15 + k] = hip, knee, ankle
        joints[:, 1 + k] = pelvis + sign * 0.3 * side + [heading * 0.07, 0, 0.72]
        joints[:, 3 + k] = pelvis + sign * 0.7 * side + [0, 0, 0.7]
        flexes.append(flex)
    joints[:, 0] = pelvis + np.array([heading * 0.09, 0, 0.68])
    return joints, np.stack(flexes, axis=1)


def four_cameras() -> list[Camera]:
    """Four 1920x1080 cameras 6.5 m from the walkway's middle, 1.7 m up, aimed at 0.9 m, none facing another."""
    target = np.array([0.0, 0.6, 0.9])
    cams = []
    for i, a in enumerate(np.radians([-80, -10, 60, 150])):
        eye = target + np.array([6.5 * np.cos(a), 6.5 * np.sin(a), 0.8])
        cams.append(camera(f"cam{i + 1}", eye, target, (1400.0, 1400.0), (960.0, 540.0), (-0.05, 0.01, 0, 0, 0),
                           size=(1920, 1080)))  # fmt: skip
    return cams


def write_run(folder, frames: np.ndarray, people: dict[int, tuple[np.ndarray, np.ndarray]], fps: float = 30.0):
    """An ``akit infer --track`` run folder: alphapose-results.json (one record per person and frame) + run.json;
    ``people`` maps a track id to its (T, 17, 2) pixels and (T, 17) scores on ``frames``."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for i, frame in enumerate(frames.tolist()):
        for track_id, (pix, scores) in people.items():
            if not np.isfinite(pix[i]).all():
                continue
            lo, hi = pix[i].min(axis=0), pix[i].max(axis=0)
            triples = np.concatenate([pix[i], scores[i][:, None]], axis=1).ravel().tolist()
            box = [float(lo[0]), float(lo[1]), float(hi[0] - lo[0]), float(hi[1] - lo[1])]
            records.append({"image_id": f"{frame}.jpg", "category_id": 1, "keypoints": triples, "score": 2.0,
                            "box": box, "idx": track_id})  # fmt: skip
    (folder / "alphapose-results.json").write_text(json.dumps(records))
    write_run_info(folder, source="cam.mp4", fps=fps, frames=int(frames.size), size=(1920, 1080),
                   model={"keypoint_set": "coco17"})  # fmt: skip
    return folder
