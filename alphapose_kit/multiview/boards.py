"""Calibration boards and their detection with OpenCV: a checkerboard (inner corners ``columns`` x ``rows``) or a
ChArUco board (``columns`` x ``rows`` squares, ArUco markers of one dictionary, through ``cv2.aruco``).

A checkerboard whose inner corner counts have an even sum (8x6) looks the same turned half around, so OpenCV numbers
its corners from either end depending on the view: cameras on opposite sides would be placed half a turn apart. With
an odd sum (9x6) the corner squares' colours tell the ends apart and OpenCV numbers it the same from every side
(tested); a ChArUco board has an id per corner. :meth:`Board.check_extrinsics` refuses the symmetric case."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from alphapose_kit.errors import AkitError

KINDS = ("checkerboard", "charuco")
MIN_CHARUCO_CORNERS = 6


@dataclass(frozen=True)
class Board:
    """A planar board: ``kind`` checkerboard (``columns`` x ``rows`` inner corners) or charuco (squares), ``square``
    side in the units the calibration will use (metres for metres out), ``marker`` side and ``dictionary`` for
    ChArUco."""

    kind: str
    columns: int
    rows: int
    square: float
    marker: float = 0.0
    dictionary: str = "DICT_4X4_50"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise AkitError(f"unknown board {self.kind!r}; choose {' or '.join(KINDS)}")
        if self.columns < 2 or self.rows < 2:
            raise AkitError(f"a board needs at least 2 x 2 corners, got {self.columns}x{self.rows}")
        if not self.square > 0:
            raise AkitError(f"--square must be a positive length, got {self.square}")
        if self.kind == "charuco":
            if not hasattr(cv2, "aruco") or not hasattr(cv2.aruco, "CharucoDetector"):
                raise AkitError("this OpenCV has no cv2.aruco ChArUco support; use a checkerboard")
            if not 0 < self.marker < self.square:
                raise AkitError(f"--marker must be positive and below --square ({self.square}), got {self.marker}")
            if not hasattr(cv2.aruco, self.dictionary):
                raise AkitError(f"unknown ArUco dictionary {self.dictionary!r} (e.g. DICT_4X4_50, DICT_6X6_250)")

    def check_extrinsics(self) -> None:
        """One line when the board cannot place cameras around it: a checkerboard symmetric under a half turn."""
        if self.kind == "checkerboard" and (self.columns + self.rows) % 2 == 0:
            raise AkitError(
                f"a {self.columns}x{self.rows} checkerboard looks the same turned half around, so cameras facing each "
                "other would disagree; for --extrinsics use one whose corner counts sum to an odd number (e.g. 9x6) "
                "or a ChArUco board"
            )

    def charuco(self) -> cv2.aruco.CharucoBoard:
        """The OpenCV ChArUco board object."""
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard((self.columns, self.rows), self.square, self.marker, dictionary)

    def object_points(self) -> np.ndarray:
        """(N, 3) corner positions in the board's frame (z = 0), indexed by corner id."""
        if self.kind == "charuco":
            return np.asarray(self.charuco().getChessboardCorners(), np.float64).reshape(-1, 3)
        grid = np.mgrid[0 : self.columns, 0 : self.rows].T.reshape(-1, 2) * self.square
        return np.hstack([grid, np.zeros((grid.shape[0], 1))])

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """(corner ids (n,), pixels (n, 2)) of the board in a BGR or grey image, refined to sub-pixel; None when the
        board is not found (whole checkerboard, or at least 6 ChArUco corners)."""
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if self.kind == "charuco":
            corners, ids, _, _ = cv2.aruco.CharucoDetector(self.charuco()).detectBoard(gray)
            if ids is None or len(ids) < MIN_CHARUCO_CORNERS:
                return None
            return ids.reshape(-1).astype(np.int64), corners.reshape(-1, 2).astype(np.float64)
        flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
        found, corners = cv2.findChessboardCorners(gray, (self.columns, self.rows), flags=flags)
        if not found:
            return None
        criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_MAX_ITER, 50, 1e-4)
        corners = cv2.cornerSubPix(gray, corners, (5, 5), (-1, -1), criteria)
        return np.arange(corners.shape[0]), corners.reshape(-1, 2).astype(np.float64)
