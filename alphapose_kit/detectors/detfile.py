"""Precomputed detections: AlphaPose's ``--detfile`` JSON (and COCO detection-result files).

The file is a JSON list of ``{"image_id": file name/path or COCO int id, "bbox": [x, y, w, h], "score": s,
optional "idx": int, optional "category_id": int}``. Boxes become [x, y, x + w, y + h] (no clamping, as in
AlphaPose). AlphaPose applies no category filter and neither does this reader by default; pass
``category_id=1`` to drop records whose category_id is present and not 1.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable, Sequence
from pathlib import Path

import numpy as np

from alphapose_kit.detectors.base import Detections
from alphapose_kit.errors import AkitError

_AMBIGUOUS = object()


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _name_keys(key: Hashable) -> tuple[str | None, int | None]:
    """(basename, int(stem)) of an image id or file name; None where it has none."""
    if isinstance(key, int):
        return None, key
    if not isinstance(key, (str, os.PathLike)):
        return None, None
    base = os.path.basename(os.fspath(key))
    stem = os.path.splitext(base)[0]
    return base, int(stem) if stem.isdigit() else None


class DetFileDetector:
    """Looks detections up in a detection file instead of running a network.

    Args:
        path: the JSON file.
        min_score: drop boxes scoring below this (None: keep all, as AlphaPose does).
        category_id: keep only records whose category_id (where present) equals this (None: no filter).
    """

    def __init__(self, path: str | os.PathLike, min_score: float | None = None, category_id: int | None = None):
        self.path = Path(path)
        self.min_score = min_score
        self.category_id = category_id
        records: dict[Hashable, list[tuple[list[float], float, int | None]]] = {}
        for n, rec in enumerate(self._read()):
            image_id, box, score, idx = self._check(n, rec)
            entries = records.setdefault(image_id, [])  # dict order = first appearance, kept filtered or not
            if category_id is not None and rec.get("category_id", category_id) != category_id:
                continue
            if min_score is not None and score < min_score:
                continue
            entries.append((box, score, idx))
        self._dets = {key: self._to_detections(entries) for key, entries in records.items()}
        self._by_base: dict[str, object] = {}
        self._by_int: dict[int, object] = {}
        for key in self._dets:
            base, number = _name_keys(key)
            for index, value in ((self._by_base, base), (self._by_int, number)):
                if value is not None:
                    index[value] = _AMBIGUOUS if index.get(value, key) != key else key

    def _fail(self, problem: str) -> AkitError:
        return AkitError(f"detection file {self.path}: {problem}")

    def _read(self) -> list:
        try:
            text = self.path.read_text(encoding="utf-8")
        except OSError as err:
            raise self._fail(f"cannot be read ({err.strerror or err})") from None
        except UnicodeDecodeError:
            raise self._fail("is not UTF-8 text") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise self._fail(f"is not valid JSON ({err.msg} at line {err.lineno} column {err.colno})") from None
        if not isinstance(data, list):
            raise self._fail(f"must hold a JSON list of detections, found a {type(data).__name__}")
        return data

    def _check(self, n: int, rec: object) -> tuple[Hashable, list[float], float, int | None]:
        where = f"entry {n}"
        if not isinstance(rec, dict):
            raise self._fail(f"{where} is a {type(rec).__name__}, expected an object with image_id, bbox, score")
        missing = [k for k in ("image_id", "bbox", "score") if k not in rec]
        if missing:
            raise self._fail(f"{where} lacks {', '.join(missing)}")
        image_id, bbox, score, idx = rec["image_id"], rec["bbox"], rec["score"], rec.get("idx")
        if isinstance(image_id, bool) or not isinstance(image_id, (int, str)):
            raise self._fail(f"{where}: image_id must be a file name or an integer, got {image_id!r}")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(_number(v) for v in bbox):
            raise self._fail(f"{where}: bbox must be 4 finite numbers [x, y, w, h], got {bbox!r}")
        if not _number(score):
            raise self._fail(f"{where}: score must be a finite number, got {score!r}")
        if idx is not None and (isinstance(idx, bool) or not isinstance(idx, int)):
            raise self._fail(f"{where}: idx must be an integer, got {idx!r}")
        x, y, w, h = (float(v) for v in bbox)
        return image_id, [x, y, x + w, y + h], float(score), idx

    @staticmethod
    def _to_detections(entries: list[tuple[list[float], float, int | None]]) -> Detections:
        if not entries:
            return Detections.empty()
        ids = [0 if idx is None else idx for _, _, idx in entries]  # AlphaPose's default id is 0
        boxes = np.asarray([e[0] for e in entries], dtype=np.float64)
        return Detections(boxes, np.asarray([e[1] for e in entries], dtype=np.float64), ids=ids)

    def image_ids(self) -> list[Hashable]:
        """The file's image ids in first-appearance order (images whose boxes were all filtered included)."""
        return list(self._dets)

    def _resolve(self, key: Hashable) -> Hashable | None:
        if key in self._dets:
            return key
        base, number = _name_keys(key)
        for index, value in ((self._by_base, base), (self._by_int, number)):
            found = index.get(value) if value is not None else None
            if found is _AMBIGUOUS:
                raise self._fail(f"{key!r} matches more than one image_id; look it up by its exact image_id")
            if found is not None:
                return found
        return None

    def __contains__(self, key: Hashable) -> bool:
        return self._resolve(key) is not None

    def lookup(self, key: Hashable) -> Detections:
        """The detections of one image, matched by exact image_id, then file basename, then int(file stem)
        (so COCO id 785 matches ``000000000785.jpg`` and the other way round). An image the file does not
        name has no detections (empty arrays); use ``key in detector`` to tell the two apart."""
        found = self._resolve(key)
        if found is None:
            return Detections.empty()
        dets = self._dets[found]  # a copy, so callers may edit theirs
        return Detections(dets.boxes.copy(), dets.scores.copy(), None if dets.ids is None else dets.ids.copy())

    def __call__(
        self, frames: Sequence[object] | None, image_ids: Sequence[Hashable] | None = None
    ) -> list[Detections]:
        """One Detections per image id; the frames themselves are not looked at (may be None)."""
        if image_ids is None:
            raise AkitError("the detfile detector needs the image ids (file names or COCO ids) of the frames")
        if frames is not None and len(frames) != len(image_ids):
            raise AkitError(f"{len(frames)} frames but {len(image_ids)} image ids given to the detfile detector")
        return [self.lookup(key) for key in image_ids]

    def __len__(self) -> int:
        return len(self._dets)

    def __repr__(self) -> str:
        return f"DetFileDetector({str(self.path)!r}, images={len(self._dets)})"
