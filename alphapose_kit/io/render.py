"""Draw poses on frames: a colour per person, skeleton edges, joints shaded by score, boxes with the person score.

Joints are drawn when their score exceeds the threshold (0.4 for heatmap models, as AlphaPose's vis.py); COCO-17
gets AlphaPose's virtual neck point (the mean of the shoulders).
"""

from __future__ import annotations

import colorsys

import cv2
import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.io.results import FrameResult


def person_color(index: int) -> tuple[int, int, int]:
    """A distinct BGR colour per person index (golden-ratio hue walk)."""
    hue = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(hue, 0.85, 1.0)
    return int(b * 255), int(g * 255), int(r * 255)


def _with_neck(points: np.ndarray, scores: np.ndarray, keypoint_set: KeypointSet) -> tuple[np.ndarray, np.ndarray]:
    if keypoint_set.neck_from is None:
        return points, scores
    a, b = keypoint_set.neck_from
    neck = (points[a] + points[b]) / 2
    return np.vstack([points, neck[None]]), np.append(scores, (scores[a] + scores[b]) / 2)


def track_label(result: FrameResult, m: int) -> tuple[tuple[int, int, int], str]:
    """Colour and label prefix of person ``m`` by its track id (``idx`` set by akit.track); grey '-' if untracked."""
    track_id = result.idx[m] if m < len(result.idx) else None
    if isinstance(track_id, int) and not isinstance(track_id, bool) and track_id >= 0:
        return person_color(track_id), f"#{track_id} "
    return (160, 160, 160), "- "


_FONT = cv2.FONT_HERSHEY_SIMPLEX
FINE_PARTS = ("face", "left_hand", "right_hand", "hand")  # parts whose joints lie a few pixels apart


def label_style(shape: tuple[int, ...]) -> tuple[float, int]:
    """OpenCV font scale and stroke of labels on an image of ``shape``: letters about 2 % of its longer side tall
    (14 px at 640, 37 px at 1920), never under scale 0.5 and 1 px strokes, so they stay legible at every size."""
    font_scale = max(0.5, max(shape[:2]) / 1400)
    return font_scale, max(1, round(font_scale * 1.6))


def draw_label(canvas: np.ndarray, text: str, corner: tuple[int, int], color: tuple[int, int, int]) -> None:
    """``text`` on a filled box of ``color`` (black or white letters, whichever contrasts) just above ``corner``,
    shifted down and left as far as needed to stay inside the image."""
    font_scale, thickness = label_style(canvas.shape)
    (width, height), baseline = cv2.getTextSize(text, _FONT, font_scale, thickness)
    pad = max(2, height // 4)
    box_h = height + baseline + 2 * pad
    x = min(max(0, corner[0]), max(0, canvas.shape[1] - width - 2 * pad))
    top = max(0, corner[1] - box_h)
    cv2.rectangle(canvas, (x, top), (x + width + 2 * pad, top + box_h), color, -1)
    ink = (0, 0, 0) if 0.114 * color[0] + 0.587 * color[1] + 0.299 * color[2] > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (x + pad, top + pad + height), _FONT, font_scale, ink, thickness, cv2.LINE_AA)


def draw_poses(
    image: np.ndarray, result: FrameResult, keypoint_set: KeypointSet, threshold: float = 0.4, by_track: bool = False
) -> np.ndarray:
    """A copy of the BGR ``image`` with every person of ``result`` drawn on it; ``by_track``: colour and label each
    person by its track id (``idx``), so one person keeps one colour through a video."""
    canvas = image.copy()
    scale = max(1, round(max(canvas.shape[:2]) / 640))
    fine = np.zeros(keypoint_set.num_joints + 1, bool)  # face and hand joints: drawn thin and small, as AlphaPose
    for part in FINE_PARTS:
        fine[list(keypoint_set.part(part))] = True
    for m in range(result.num_people):
        color, prefix = track_label(result, m) if by_track else (person_color(m), "")
        x1, y1, x2, y2 = (round(float(v)) for v in result.boxes[m])
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, scale)
        draw_label(canvas, f"{prefix}{float(result.scores[m]):.2f}", (x1, y1), color)
        points, scores = _with_neck(result.keypoints[m], result.keypoint_scores[m], keypoint_set)
        visible = scores > threshold
        for a, b in keypoint_set.skeleton:
            if visible[a] and visible[b]:
                pa = tuple(round(float(v)) for v in points[a])
                pb = tuple(round(float(v)) for v in points[b])
                cv2.line(canvas, pa, pb, color, scale if fine[a] or fine[b] else 2 * scale, cv2.LINE_AA)
        for k in np.flatnonzero(visible):
            shade = float(np.clip(scores[k], 0.0, 1.0))
            joint_color = tuple(int(c * (0.4 + 0.6 * shade)) for c in color)
            center = tuple(round(float(v)) for v in points[k])
            cv2.circle(canvas, center, scale if fine[k] else 2 * scale + 1, joint_color, -1, cv2.LINE_AA)
    return canvas
