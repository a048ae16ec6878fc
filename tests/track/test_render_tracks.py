"""Rendering by track id: one person keeps one colour whatever its position in the frame's list."""

from __future__ import annotations

import numpy as np

from alphapose_kit.data.keypoints import COCO17
from alphapose_kit.io.render import draw_poses, person_color
from alphapose_kit.io.results import FrameResult


def _frame(ids: list, xs: list[int]) -> FrameResult:
    n = len(xs)
    boxes = np.array([[x, 20, x + 40, 120] for x in xs], np.float32)
    return FrameResult(
        0, "0.jpg", boxes, np.full(n, 0.9, np.float32), np.zeros((n, 17, 2), np.float32),
        np.zeros((n, 17), np.float32), np.full(n, 2.5, np.float32), ids, (160, 320),
    )  # fmt: skip


def _edge_color(canvas: np.ndarray, x: int) -> tuple[int, ...]:
    return tuple(int(c) for c in canvas[70, x])  # a pixel on the box's left edge


def test_colour_follows_the_track_id():
    blank = np.zeros((160, 320, 3), np.uint8)
    first = draw_poses(blank, _frame([7, 3], [20, 200]), COCO17, by_track=True)
    swapped = draw_poses(blank, _frame([3, 7], [20, 200]), COCO17, by_track=True)
    assert _edge_color(first, 20) == person_color(7) == _edge_color(swapped, 200)
    assert _edge_color(first, 200) == person_color(3) == _edge_color(swapped, 20)
    untracked = draw_poses(blank, _frame([-1, [0.0]], [20, 200]), COCO17, by_track=True)
    assert _edge_color(untracked, 20) == _edge_color(untracked, 200) == (160, 160, 160)
    plain = draw_poses(blank, _frame([7, 3], [20, 200]), COCO17)  # default: colour by position, as before
    assert _edge_color(plain, 20) == person_color(0)
    assert not np.array_equal(first[:18], draw_poses(blank, _frame([3, 7], [20, 200]), COCO17, by_track=True)[:18])
