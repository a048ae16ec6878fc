"""Camera calibration from board views: intrinsics per camera (``cv2.calibrateCamera`` over every view where the
board is found), then extrinsics from one view per camera of a board all cameras see in the same place
(``cv2.solvePnP``), in the board's units (Zhang, PAMI 2000; Pose2Sim's calibration.py does the same two steps).

The world frame is the extrinsics board's, turned half a turn about its x axis so that Z points out of the board's
printed face, towards the cameras (up, for a board lying face up on the floor): world (x, y, z) = board (x, -y, -z),
with x along the board's first row of corners, as OpenCV numbers them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from alphapose_kit.errors import AkitError
from alphapose_kit.multiview.boards import Board
from alphapose_kit.multiview.camera import Camera

log = logging.getLogger("akit.multiview")

MIN_VIEWS = 3


@dataclass
class BoardViews:
    """The board as one camera saw it: image ``size`` (w, h), and per view the corner ids and pixels."""

    size: tuple[int, int]
    views: list[tuple[np.ndarray, np.ndarray]]
    frames: int


def _frames(source: str | Path, every: int) -> Iterator[np.ndarray]:
    from alphapose_kit.data.sources import open_source

    if not Path(source).exists():
        raise AkitError(f"board images not found: {source}")
    for n, frame in enumerate(open_source(str(source))):
        if n % every == 0:
            yield frame.image


def find_board(source: str | Path, board: Board, every: int = 1, first_only: bool = False) -> BoardViews:
    """Detect ``board`` in the images of ``source`` (an image, a folder of images or a video; every ``every``-th
    frame); ``first_only`` stops at the first view where it is found."""
    if every < 1:
        raise AkitError(f"--every must be 1 or more, got {every}")
    size: tuple[int, int] | None = None
    views, count = [], 0
    for image in _frames(source, every):
        count += 1
        h, w = image.shape[:2]
        if size is None:
            size = (w, h)
        elif size != (w, h):
            raise AkitError(f"{source}: images of different sizes ({size[0]}x{size[1]} and {w}x{h}) in one camera")
        found = board.detect(image)
        if found is not None:
            views.append(found)
            if first_only:
                break
    if size is None:
        raise AkitError(f"{source} holds no image")
    return BoardViews(size, views, count)


def calibrate_intrinsics(name: str, found: BoardViews, board: Board) -> tuple[Camera, float]:
    """The camera matrix and distortion (k1 k2 p1 p2 k3) fitted to every view of the board, and the RMS
    reprojection error in pixels; one line when fewer than 3 views show the board."""
    if len(found.views) < MIN_VIEWS:
        raise AkitError(
            f"camera {name}: the board was found in {len(found.views)} of {found.frames} images; need at least "
            f"{MIN_VIEWS} views of a {board.columns}x{board.rows} {board.kind} (check --board/--corners)"
        )
    obj = board.object_points()
    objects = [obj[ids].astype(np.float32) for ids, _ in found.views]
    pixels = [pts.astype(np.float32).reshape(-1, 1, 2) for _, pts in found.views]
    rms, matrix, dist, _, _ = cv2.calibrateCamera(objects, pixels, found.size, None, None)
    return Camera(name, found.size, matrix, dist.reshape(-1)), float(rms)


def locate_camera(camera: Camera, found: BoardViews, board: Board) -> tuple[Camera, float]:
    """``camera`` placed in the world (the board's frame, Z towards the cameras: see the module docstring) from its
    first view of the board (``cv2.solvePnP``), and that view's RMS reprojection error in pixels."""
    if not found.views:
        raise AkitError(f"camera {camera.name}: the board is not found in its extrinsics image(s)")
    ids, pts = found.views[0]
    obj = board.object_points()[ids] * [1.0, -1.0, -1.0]
    k, d = np.asarray(camera.matrix, np.float64), np.asarray(camera.distortions, np.float64)
    ok, rvec, tvec = cv2.solvePnP(obj, pts, k, d, flags=cv2.SOLVEPNP_ITERATIVE)
    if not ok:
        raise AkitError(f"camera {camera.name}: cannot place the camera from its view of the board")
    located = Camera(camera.name, camera.size, k, d, rvec.reshape(3), tvec.reshape(3), camera.fisheye)
    error = float(np.sqrt(np.mean(np.sum((located.project(obj) - pts) ** 2, axis=1))))
    return located, error


@dataclass
class CameraReport:
    """One camera's calibration result: views used and RMS reprojection errors (pixels)."""

    camera: Camera
    views: int
    frames: int
    intrinsic_error: float
    extrinsic_error: float | None


def calibrate_cameras(
    sources: list[str | Path],
    board: Board,
    extrinsics: list[str | Path] | None = None,
    every: int = 1,
    names: list[str] | None = None,
) -> list[CameraReport]:
    """Intrinsics of each camera from its board views in ``sources`` (an image, folder or video each), then, with
    ``extrinsics`` (one source per camera, showing one board in one place), every camera placed in that board's
    world; without them each camera stays at the origin (intrinsics only)."""
    names = names or [Path(s).stem or f"cam_{i}" for i, s in enumerate(sources)]
    if len(names) != len(sources) or len(set(names)) != len(names):
        raise AkitError(f"one unique name per camera is needed, got {', '.join(names)}")
    if extrinsics is not None and len(extrinsics) != len(sources):
        raise AkitError(f"--extrinsics needs one source per camera: {len(sources)} cameras, {len(extrinsics)} given")
    if extrinsics is not None:
        board.check_extrinsics()
    for path in [*sources, *(extrinsics or [])]:
        if not Path(path).exists():
            raise AkitError(f"board images not found: {path}")
    reports = []
    for i, (name, source) in enumerate(zip(names, sources, strict=True)):
        found = find_board(source, board, every)
        camera, rms = calibrate_intrinsics(name, found, board)
        ext_error = None
        if extrinsics is not None:
            seen = find_board(extrinsics[i], board, first_only=True)
            if seen.size != found.size:
                raise AkitError(f"camera {name}: extrinsics images are {seen.size}, intrinsics images {found.size}")
            camera, ext_error = locate_camera(camera, seen, board)
        log.info("camera %s: board in %d of %d images, RMS %.3f px", name, len(found.views), found.frames, rms)
        reports.append(CameraReport(camera, len(found.views), found.frames, rms, ext_error))
    return reports
