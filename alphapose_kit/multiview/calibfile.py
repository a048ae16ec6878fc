"""The calibration TOML that Pose2Sim and anipose(lib) write and read: one table per camera with ``name``, ``size``
[w, h], ``matrix`` K, ``distortions``, ``rotation`` (Rodrigues, world -> camera), ``translation`` and ``fisheye``,
plus a ``[metadata]`` table (Pose2Sim calibration.py ``toml_write``; aniposelib cameras.py ``dump``/``load``).
Tables here are named ``cam_0``, ``cam_1``, ... as aniposelib names them; any table holding those keys is read."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.multiview.camera import Camera

CAMERA_KEYS = ("size", "matrix", "distortions", "rotation", "translation")


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib.loads(text)


def _array(path: Path, table: str, key: str, value: Any, shape: tuple[int, ...] | None = None) -> np.ndarray:
    try:
        arr = np.asarray(value, np.float64)
    except (TypeError, ValueError):
        raise AkitError(f"{path}: [{table}] {key} must be numbers, got {value!r}") from None
    if (shape is not None and arr.shape != shape) or not np.isfinite(arr).all():
        want = "x".join(map(str, shape)) if shape else "finite"
        raise AkitError(f"{path}: [{table}] {key} must be {want} finite numbers, got shape {arr.shape}")
    return arr


def _camera(path: Path, table: str, body: dict[str, Any]) -> Camera:
    missing = [k for k in CAMERA_KEYS if k not in body]
    if missing:
        raise AkitError(f"{path}: camera table [{table}] has no {', '.join(missing)}")
    fisheye = bool(body.get("fisheye", False))
    dist = _array(path, table, "distortions", body["distortions"]).ravel()
    allowed = (4,) if fisheye else (4, 5, 8, 12, 14)
    if dist.size not in allowed:
        raise AkitError(
            f"{path}: [{table}] distortions has {dist.size} values; expected {' or '.join(map(str, allowed))}"
        )
    size = _array(path, table, "size", body["size"], (2,))
    return Camera(
        name=str(body.get("name", table)),
        size=(int(size[0]), int(size[1])),
        matrix=_array(path, table, "matrix", body["matrix"], (3, 3)),
        distortions=dist,
        rotation=_array(path, table, "rotation", body["rotation"], (3,)),
        translation=_array(path, table, "translation", body["translation"], (3,)),
        fisheye=fisheye,
    )


def read_calibration(path: str | Path) -> list[Camera]:
    """The cameras of a Pose2Sim / anipose calibration TOML, in file order; one line for a missing file, a file that
    is not TOML, or a camera table lacking a key."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AkitError(f"cannot read calibration {path} ({getattr(exc, 'strerror', None) or exc})") from None
    try:
        data = _toml_loads(text)
    except ValueError as exc:
        raise AkitError(f"{path} is not a TOML calibration file ({exc})") from None
    cameras = [
        _camera(path, name, body)
        for name, body in data.items()
        if isinstance(body, dict) and name != "metadata" and any(k in body for k in ("matrix", "size"))
    ]
    if not cameras:
        raise AkitError(f"{path} holds no camera table (a [cam_0] table with size, matrix, distortions, ...)")
    names = [c.name for c in cameras]
    if len(set(names)) != len(names):
        raise AkitError(f"{path}: camera names must be unique, got {', '.join(names)}")
    return cameras


def calibration_toml(cameras: list[Camera], error: float | None = None) -> str:
    """The TOML text of ``cameras`` (``[cam_0]``, ``[cam_1]``, ... and ``[metadata]`` with the mean reprojection
    error in pixels)."""
    import tomli_w

    doc: dict[str, Any] = {}
    for i, cam in enumerate(cameras):
        doc[f"cam_{i}"] = {
            "name": cam.name,
            "size": [int(cam.size[0]), int(cam.size[1])],
            "matrix": np.asarray(cam.matrix, np.float64).tolist(),
            "distortions": np.asarray(cam.distortions, np.float64).ravel().tolist(),
            "rotation": np.asarray(cam.rotation, np.float64).ravel().tolist(),
            "translation": np.asarray(cam.translation, np.float64).ravel().tolist(),
            "fisheye": bool(cam.fisheye),
        }
    doc["metadata"] = {"adjusted": False, "error": float(error) if error is not None else 0.0}
    return tomli_w.dumps(doc)


def write_calibration(path: str | Path, cameras: list[Camera], error: float | None = None) -> Path:
    """Write ``cameras`` to ``path`` atomically in the Pose2Sim / anipose layout."""
    return atomic_write_text(path, calibration_toml(cameras, error))
