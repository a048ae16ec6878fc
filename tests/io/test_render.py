"""Rendered score labels: legible (a filled box, letters scaled with the image) and inside the image."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from alphapose_kit.data.keypoints import keypoint_set_for
from alphapose_kit.io.render import draw_label, draw_poses, label_style, person_color
from alphapose_kit.io.results import FrameResult


def letter_height(shape: tuple[int, int]) -> int:
    font_scale, thickness = label_style(shape)
    return cv2.getTextSize("0.87", cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)[0][1]


@pytest.mark.parametrize("shape", [(240, 320), (480, 640), (1080, 1920), (2160, 3840)])
def test_letters_are_about_two_percent_of_the_image_and_never_tiny(shape: tuple[int, int]) -> None:
    height = letter_height(shape)
    assert height >= 12  # the old labels: 0.4-scale, 1-px text, 11 px tall and hard to read on a photo
    assert height >= 0.017 * max(shape) and height <= max(14, 0.025 * max(shape))
    assert label_style(shape)[1] >= max(1, letter_height(shape) // 20)


def label_box(canvas: np.ndarray, color: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """Bounding box (x0, y0, x1, y1) of the pixels painted exactly ``color``."""
    ys, xs = np.nonzero(np.all(canvas == color, axis=2))
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_label_sits_on_a_filled_box_above_the_corner() -> None:
    canvas = np.zeros((1080, 1920, 3), np.uint8)
    color = person_color(0)
    draw_label(canvas, "0.87", (500, 400), color)
    x0, y0, x1, y1 = label_box(canvas, color)
    assert x0 == 500 and y1 == 400 and y1 - y0 >= letter_height(canvas.shape)  # tall enough to hold the letters
    inside = canvas[y0 : y1 + 1, x0 : x1 + 1]
    ink = np.all(inside == 0, axis=2) | np.all(inside == 255, axis=2)
    assert 0.05 < ink.mean() < 0.6  # letters in a contrasting ink cover part of the box


def test_label_moves_inside_at_the_image_edges() -> None:
    canvas = np.zeros((480, 640, 3), np.uint8)
    color = (0, 200, 0)
    draw_label(canvas, "0.87", (630, 0), color)  # top-right corner: no room above, none to the right
    x0, y0, x1, _ = label_box(canvas, color)
    assert y0 == 0 and x1 <= 639 and x0 < 630


def test_draw_poses_labels_each_person_legibly() -> None:
    k = 17
    keypoints = np.stack([np.linspace(600, 700, k), np.linspace(400, 700, k)], axis=1)[None].astype(np.float32)
    result = FrameResult(
        0, "a.jpg", np.float32([[580, 380, 720, 720]]), np.float32([0.9]), keypoints, np.ones((1, k), np.float32),
        np.float32([2.87]), [[0.0]], (1080, 1920),
    )  # fmt: skip
    canvas = draw_poses(np.zeros((1080, 1920, 3), np.uint8), result, keypoint_set_for(17))
    x0, y0, _, y1 = label_box(canvas[:378], person_color(0))  # above the box's 3-px top edge (rows 379-381)
    assert (x0, y1) == (580, 377) and y1 - y0 >= letter_height(canvas.shape)


def test_face_and_hand_joints_are_drawn_small() -> None:
    """A 136-joint person with only its left wrist (body) and a left-hand joint visible, far apart: the hand joint's
    dot (radius 1 at 640 px) covers a fraction of the wrist's (radius 3)."""
    from alphapose_kit.data.wholebody import HALPE136
    from alphapose_kit.io.results import FrameResult

    kps = np.zeros((1, 136, 2), np.float32)
    scores = np.zeros((1, 136), np.float32)
    kps[0, 9], scores[0, 9] = (100, 300), 1.0  # left wrist
    kps[0, 100], scores[0, 100] = (500, 300), 1.0  # a left-hand joint
    result = FrameResult(0, "0.jpg", np.array([[5, 5, 6, 6]], np.float32), np.array([0.9], np.float32), kps, scores,
                         np.array([1.0], np.float32), [1], (480, 640))  # fmt: skip
    canvas = draw_poses(np.zeros((480, 640, 3), np.uint8), result, HALPE136)
    wrist = np.count_nonzero(canvas[290:311, 90:111].any(axis=2))
    hand = np.count_nonzero(canvas[290:311, 490:511].any(axis=2))
    assert 0 < hand <= wrist / 3
