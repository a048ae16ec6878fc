"""What every person detector returns (:class:`Detections`) and the call it answers (:class:`Detector`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


def _float_array(values: object) -> np.ndarray:
    """float64 stays float64 (detection files keep it, as AlphaPose's loader does); anything else is float32."""
    array = np.asarray(values)
    return array if array.dtype == np.float64 else array.astype(np.float32)


@dataclass(eq=False)
class Detections:
    """The boxes found in one image.

    ``boxes`` is (M, 4) x1, y1, x2, y2 in pixels of the ORIGINAL image, ``scores`` (M,): float32 from networks,
    float64 from detection files (AlphaPose computes crops of file boxes in float64, so akit keeps them).
    ``ids`` (int64 (M,)) carries per-box ids where the source has them (a detection file's ``idx``);
    ``labels`` (int64 (M,)) the class index where a network detected the box. M may be 0.
    """

    boxes: np.ndarray
    scores: np.ndarray
    ids: np.ndarray | None = None
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = _float_array(self.boxes).reshape(-1, 4)
        self.scores = _float_array(self.scores).reshape(-1)
        if len(self.scores) != len(self.boxes):
            raise ValueError(f"{len(self.boxes)} boxes but {len(self.scores)} scores")
        for field in ("ids", "labels"):
            value = getattr(self, field)
            if value is not None:
                value = np.asarray(value, dtype=np.int64).reshape(-1)
                if len(value) != len(self.boxes):
                    raise ValueError(f"{len(self.boxes)} boxes but {len(value)} {field}")
                setattr(self, field, value)

    def __len__(self) -> int:
        return len(self.boxes)

    @classmethod
    def empty(cls) -> Detections:
        """No detections: boxes (0, 4) and scores (0,), both float32."""
        return cls(np.zeros((0, 4), np.float32), np.zeros((0,), np.float32))


@runtime_checkable
class Detector(Protocol):
    """``detector(frames) -> one Detections per frame``.

    ``frames`` are BGR uint8 images (H, W, 3) as cv2.imread gives them. ``image_ids`` (file names, paths or
    COCO ids, one per frame) is needed by detectors that look boxes up instead of computing them.
    """

    def __call__(
        self, frames: Sequence[np.ndarray], image_ids: Sequence[Hashable] | None = None
    ) -> list[Detections]: ...
