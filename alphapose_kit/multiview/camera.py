"""A calibrated camera in OpenCV's model: pixels = K * distort([R|t] X), with R as a Rodrigues vector (world ->
camera), as Pose2Sim and aniposelib store it (Pose2Sim common.py computeP; aniposelib cameras.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np


@dataclass
class Camera:
    """One camera: ``size`` (width, height) px, ``matrix`` K (3, 3), ``distortions`` (OpenCV's k1 k2 p1 p2 [k3 ...],
    or fisheye k1..k4), ``rotation`` Rodrigues (3,) and ``translation`` (3,) from world to camera."""

    name: str
    size: tuple[int, int]
    matrix: np.ndarray
    distortions: np.ndarray
    rotation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    translation: np.ndarray = field(default_factory=lambda: np.zeros(3))
    fisheye: bool = False

    @property
    def rotation_matrix(self) -> np.ndarray:
        """R (3, 3) from the Rodrigues vector."""
        return cv2.Rodrigues(np.asarray(self.rotation, np.float64).reshape(3, 1))[0]

    @property
    def extrinsic(self) -> np.ndarray:
        """[R | t] (3, 4): world point -> camera coordinates."""
        return np.hstack([self.rotation_matrix, np.asarray(self.translation, np.float64).reshape(3, 1)])

    @property
    def focal(self) -> float:
        """The mean focal length in pixels (turns normalised-plane distances into pixels)."""
        return float((self.matrix[0, 0] + self.matrix[1, 1]) / 2)

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 2) pixels of (..., 3) world points, lens distortion included; NaN in, NaN out."""
        pts = np.asarray(points, np.float64)
        flat = pts.reshape(-1, 1, 3)
        ok = np.isfinite(flat).all(axis=(1, 2))
        out = np.full((flat.shape[0], 2), np.nan)
        if ok.any():
            rvec, tvec = np.asarray(self.rotation, np.float64), np.asarray(self.translation, np.float64)
            k, d = np.asarray(self.matrix, np.float64), np.asarray(self.distortions, np.float64)
            if self.fisheye:
                proj = cv2.fisheye.projectPoints(flat[ok], rvec.reshape(1, 1, 3), tvec.reshape(1, 1, 3), k, d)[0]
            else:
                proj = cv2.projectPoints(flat[ok], rvec, tvec, k, d)[0]
            out[ok] = proj.reshape(-1, 2)
        return out.reshape(*pts.shape[:-1], 2)

    def normalise(self, pixels: np.ndarray) -> np.ndarray:
        """(..., 2) undistorted normalised image coordinates (x/z, y/z in the camera frame) of (..., 2) pixels."""
        pix = np.asarray(pixels, np.float64)
        flat = pix.reshape(-1, 1, 2)
        ok = np.isfinite(flat).all(axis=(1, 2))
        out = np.full((flat.shape[0], 2), np.nan)
        if ok.any():
            k, d = np.asarray(self.matrix, np.float64), np.asarray(self.distortions, np.float64)
            criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 50, 1e-10)
            if self.fisheye:
                und = cv2.fisheye.undistortPoints(flat[ok], k, d, criteria=criteria)
            else:
                und = cv2.undistortPoints(flat[ok], k, d, None, None, None, criteria)
            out[ok] = und.reshape(-1, 2)
        return out.reshape(pix.shape)
