"""What every person detector returns (:class:`Detections`) and the call it answers (:class:`Detector`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass(eq=False)
class Detections:
    """The boxes found in one image.

    ``boxes`` is float32 (M, 4) x1, y1, x2, y2 in pixels of the ORIGINAL image, ``scores`` float32 (M,).
    ``ids`` (int64 (M,)) carries per-box ids where the source has them (a detection file's ``idx``);
    ``labels`` (int64 (M,)) the class index where a network detected the box. M may be 0.
    """

    boxes: np.ndarray
    scores: np.ndarray
    ids: np.ndarray | None = None
    labels: np.ndarray | None = None

    def __post_init__(self) -> None:
        self.boxes = np.asarray(self.boxes, dtype=np.float32).reshape(-1, 4)
        self.scores = np.asarray(self.scores, dtype=np.float32).reshape(-1)
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
