"""Virtual cameras and rendered calibration boards with known answers, for the multiview tests.

The world is Z-up with the board lying in Z = 0; board coordinates (x, y) sit at world (x, -y, 0), the frame
``locate_camera`` gives the world. Each pixel is rendered by casting its ray (through OpenCV's own undistortion) onto
the board plane and sampling a texture at 100 pixels a square, 3 x 3 samples a pixel."""

from __future__ import annotations

import cv2
import numpy as np

from alphapose_kit.multiview.boards import Board
from alphapose_kit.multiview.camera import Camera

SIZE = (640, 480)
PX_PER_SQUARE = 100


def look_at(eye, target, up=(0.0, 0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """Rodrigues rotation and translation (world -> camera) of a camera at ``eye`` looking at ``target``, image y
    pointing down the world ``up``."""
    eye, target = np.asarray(eye, float), np.asarray(target, float)
    z = (target - eye) / np.linalg.norm(target - eye)
    x = np.cross(z, up)
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    rot = np.stack([x, y, z])
    return cv2.Rodrigues(rot)[0].reshape(3), -rot @ eye


def camera(name: str, eye, target, focal=(800.0, 800.0), centre=(320.0, 240.0), dist=(0, 0, 0, 0, 0), up=(0, 0, 1),
           size=SIZE):  # fmt: skip
    """A camera (640x480 unless ``size`` says otherwise) at ``eye`` looking at ``target``."""
    rvec, tvec = look_at(eye, target, up)
    k = np.array([[focal[0], 0, centre[0]], [0, focal[1], centre[1]], [0, 0, 1.0]])
    return Camera(name, tuple(size), k, np.asarray(dist, float), rvec, tvec)


def _texture(board: Board) -> tuple[np.ndarray, float]:
    """Board texture (grey, white margin of one square) and the board x/y of its top-left pixel's corner."""
    if board.kind == "charuco":
        inner = board.charuco().generateImage((board.columns * PX_PER_SQUARE, board.rows * PX_PER_SQUARE), marginSize=0)
        return cv2.copyMakeBorder(inner, *[PX_PER_SQUARE] * 4, cv2.BORDER_CONSTANT, value=255), -board.square
    n_x, n_y = board.columns + 3, board.rows + 3  # squares + margin, from x = -2 squares
    i, j = np.meshgrid(np.arange(n_x * PX_PER_SQUARE), np.arange(n_y * PX_PER_SQUARE))
    a, b = i // PX_PER_SQUARE - 1, j // PX_PER_SQUARE - 1  # square index from x = -s
    inside = (a >= 0) & (a <= board.columns) & (b >= 0) & (b <= board.rows)
    return np.where(inside & ((a + b) % 2 == 0), 0, 255).astype(np.uint8), -2 * board.square


def render(cam: Camera, board: Board, samples: int = 3) -> np.ndarray:
    """The BGR image ``cam`` takes of ``board`` lying in the world plane Z = 0 (grey where there is no board): the
    pinhole image by the plane's homography at ``samples`` x the resolution, averaged down, then distorted by looking
    up each pixel's undistorted position (OpenCV's own ``undistortPoints``)."""
    texture, origin = _texture(board)
    w, h = cam.size
    rot, k = cam.rotation_matrix, np.asarray(cam.matrix, float)
    plane = k @ np.column_stack([rot[:, 0], -rot[:, 1], cam.translation])  # board (x, y, 1) -> ideal pixel
    scale = PX_PER_SQUARE / board.square
    tex_to_board = np.array([[1 / scale, 0, origin + 0.5 / scale], [0, 1 / scale, origin + 0.5 / scale], [0, 0, 1]])
    up = np.array([[samples, 0, (samples - 1) / 2], [0, samples, (samples - 1) / 2], [0, 0, 1]])
    big = cv2.warpPerspective(texture, up @ plane @ tex_to_board, (w * samples, h * samples), flags=cv2.INTER_LINEAR,
                              borderValue=128)  # fmt: skip
    ideal = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
    if np.any(np.asarray(cam.distortions) != 0):
        u, v = np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))
        norm = cam.normalise(np.stack([u, v], axis=-1).reshape(-1, 2))
        qx = (k[0, 0] * norm[:, 0] + k[0, 2]).reshape(h, w).astype(np.float32)
        qy = (k[1, 1] * norm[:, 1] + k[1, 2]).reshape(h, w).astype(np.float32)
        ideal = cv2.remap(ideal, qx, qy, cv2.INTER_LINEAR, borderValue=128)
    return cv2.cvtColor(ideal, cv2.COLOR_GRAY2BGR)
