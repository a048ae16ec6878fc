"""Precomputed detections: AlphaPose's ``--detfile`` JSON (and COCO detection-result files).

The file is a JSON list of ``{"image_id": file name/path or COCO int id, "bbox": [x, y, w, h], "score": s,
optional "idx": int, optional "category_id": int}``. Boxes become [x, y, x + w, y + h]. AlphaPose applies no category
filter and neither does this reader by default; pass ``category_id=1`` to drop records whose category_id is present
and not 1.

Boxes are checked: a non-finite or empty (w or h <= 0) box is an error naming its entry. Where the image is known,
a box lying wholly outside it is left out, and a box reaching beyond the image by more than the image's own width or
height (e.g. [300, 300, 1e300, 1e300], which would overflow the crop into NaN) is clipped to the image as AlphaPose's
detector clips its boxes, each with a warning naming the entries. Boxes that merely cross the border are kept as they
are: AlphaPose's ``--detfile`` reader (alphapose/utils/file_detector.py) takes them unclipped, and so akit gives its
numbers. ``coverage()`` tells which frames found no entry and which of the file's image ids no frame used.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from alphapose_kit.detectors.base import Detections
from alphapose_kit.errors import AkitError

log = logging.getLogger("akit.detectors")

_AMBIGUOUS = object()
_SHOWN = 3  # ids named in a coverage message, on each side


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _parts(key: Hashable) -> tuple[str, ...]:
    """The path components of an image id or file name ('/' or '\\' separated); () for an int id."""
    if isinstance(key, int) or not isinstance(key, (str, os.PathLike)):
        return ()
    text = os.fspath(key).replace("\\", "/")
    return tuple(part for part in text.split("/") if part not in ("", "."))


def _int_stem(key: Hashable) -> int | None:
    """A COCO-style number: the id itself, or a file name's numeric stem (``000000000785.jpg`` -> 785)."""
    if isinstance(key, int):
        return key
    parts = _parts(key)
    stem = os.path.splitext(parts[-1])[0] if parts else ""
    return int(stem) if stem.isdigit() else None


def _shared_tail(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    n = 0
    while n < min(len(a), len(b)) and a[-1 - n] == b[-1 - n]:
        n += 1
    return n


@dataclass
class DetFileCoverage:
    """How a run's frames and a detection file's image ids met.

    ``frames``: frame ids looked up; ``unmatched_frames``: those no image_id matched; ``unused_ids``: the file's
    image ids that no frame matched (both in order of first appearance).
    """

    path: Path
    frames: int
    unmatched_frames: list[Hashable] = field(default_factory=list)
    unused_ids: list[Hashable] = field(default_factory=list)

    @property
    def none_matched(self) -> bool:
        """Frames were looked up and not one of them is named in the file: surely the wrong file or inputs."""
        return self.frames > 0 and len(self.unmatched_frames) == self.frames

    def message(self) -> str | None:
        """One line naming a few ids on each side when some frames found no entry; None when every frame did."""
        if not self.unmatched_frames:
            return None
        missed = len(self.unmatched_frames)
        head = (
            f"none of the {self.frames} frames matches an image_id of detection file {self.path}"
            if self.none_matched
            else f"{missed} of {self.frames} frames match no image_id of detection file {self.path} (no boxes there)"
        )
        lines = [f"{head}: frames {_examples(self.unmatched_frames)}"]
        if self.unused_ids:
            lines.append(f"unmatched file ids {_examples(self.unused_ids)}")
        return "; ".join(lines)


def _examples(values: list[Hashable]) -> str:
    shown = ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN} more" if len(values) > _SHOWN else "")


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
        records: dict[Hashable, list[tuple[list[float], float, int | None, int]]] = {}
        for n, rec in enumerate(self._read()):
            image_id, box, score, idx = self._check(n, rec)
            entries = records.setdefault(image_id, [])  # dict order = first appearance, kept filtered or not
            if category_id is not None and rec.get("category_id", category_id) != category_id:
                continue
            if min_score is not None and score < min_score:
                continue
            entries.append((box, score, idx, n))
        self._dets = {key: self._to_detections(entries) for key, entries in records.items()}
        self._entries = {key: [e[3] for e in entries] for key, entries in records.items()}  # entry numbers per box
        self._by_base: dict[str, list[Hashable]] = {}
        self._by_int: dict[int, object] = {}
        for key in self._dets:
            parts = _parts(key)
            if parts:
                self._by_base.setdefault(parts[-1], []).append(key)
            number = _int_stem(key)
            if number is not None:
                self._by_int[number] = _AMBIGUOUS if self._by_int.get(number, key) != key else key
        self._looked_up: dict[Hashable, Hashable | None] = {}  # frame id -> the file's image_id it matched
        self._claims: dict[Hashable, Hashable] = {}  # image_id with fewer folders than its frame -> that frame

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
        if w <= 0 or h <= 0:
            raise self._fail(f"{where} (image_id {image_id!r}): empty box, width and height must be > 0, got {bbox!r}")
        if not (math.isfinite(x + w) and math.isfinite(y + h)):
            raise self._fail(f"{where} (image_id {image_id!r}): box corner overflows to infinity, got {bbox!r}")
        return image_id, [x, y, x + w, y + h], float(score), idx

    @staticmethod
    def _to_detections(entries: list[tuple[list[float], float, int | None, int]]) -> Detections:
        if not entries:
            return Detections.empty()
        ids = [0 if e[2] is None else e[2] for e in entries]  # AlphaPose's default id is 0
        boxes = np.asarray([e[0] for e in entries], dtype=np.float64)
        return Detections(boxes, np.asarray([e[1] for e in entries], dtype=np.float64), ids=np.asarray(ids, np.int64))

    def image_ids(self) -> list[Hashable]:
        """The file's image ids in first-appearance order (images whose boxes were all filtered included)."""
        return list(self._dets)

    def _resolve(self, key: Hashable) -> Hashable | None:
        if key in self._dets:
            return key
        parts = _parts(key)
        candidates = self._by_base.get(parts[-1], []) if parts else []
        if candidates:  # names fit when one is the other's tail; the one sharing the most folders wins
            shared = {c: _shared_tail(parts, _parts(c)) for c in candidates}
            fitting = {c: n for c, n in shared.items() if n == min(len(parts), len(_parts(c)))}
            if not fitting:
                return None  # the same file name in another folder is another image
            best = max(fitting.values())
            winners = [c for c, n in fitting.items() if n == best]
            if len(winners) > 1:
                raise self._fail(
                    f"{key!r} matches image_ids {winners[0]!r} and {winners[1]!r} equally; "
                    "give the frames or the file's image_ids their folders"
                )
            return self._claim(winners[0], key, parts)
        number = _int_stem(key)
        found = self._by_int.get(number) if number is not None else None
        if found is _AMBIGUOUS:
            raise self._fail(f"{key!r} matches more than one image_id; look it up by its exact image_id")
        return found

    def _claim(self, image_id: Hashable, key: Hashable, parts: tuple[str, ...]) -> Hashable:
        """``image_id`` for frame ``key``; one line when the id names fewer folders than the frames it fits and
        frames of two folders fit it (boxes of one video must not land on another's frames)."""
        below = len(parts) - len(_parts(image_id))
        if below <= 0:
            return image_id
        first = self._claims.setdefault(image_id, key)
        if _parts(first)[:below] != parts[:below]:
            raise self._fail(
                f"image_id {image_id!r} fits frames in several folders ({first!r}, {key!r}); name the images "
                "as akit does: by their path below the glob's fixed part (or run one folder at a time)"
            )
        return image_id

    def __contains__(self, key: Hashable) -> bool:
        return self._resolve(key) is not None

    def lookup(self, key: Hashable, image_size: tuple[int, int] | None = None) -> Detections:
        """The detections of one image, matched by exact image_id, then by relative name (one name the other's
        tail; the image_id sharing the most trailing folders with ``key`` wins; an image_id of fewer folders than
        ``key`` may fit frames of one folder only), then by COCO number (id 785 <-> ``000000000785.jpg``). An image
        the file does not name has no detections (empty arrays); use ``key in detector`` to tell the two apart.

        ``image_size`` (height, width): leave out boxes wholly outside the image and clip absurdly large ones
        (see the module docstring), with a warning naming the entries.
        """
        found = self._resolve(key)
        self._looked_up.setdefault(key, found)
        if found is None:
            return Detections.empty()
        dets = self._dets[found]  # a copy, so callers may edit theirs
        dets = Detections(dets.boxes.copy(), dets.scores.copy(), None if dets.ids is None else dets.ids.copy())
        return dets if image_size is None else self._fit(dets, self._entries[found], key, image_size)

    def _fit(self, dets: Detections, entries: list[int], key: Hashable, size: tuple[int, int]) -> Detections:
        """Leave out boxes wholly outside the image; clip those reaching beyond it by more than its own size."""
        if len(dets) == 0:
            return dets
        height, width = size
        x1, y1, x2, y2 = dets.boxes.T
        outside = (x2 <= 0) | (y2 <= 0) | (x1 >= width) | (y1 >= height)
        absurd = ~outside & ((x1 < -width) | (y1 < -height) | (x2 > 2 * width) | (y2 > 2 * height))
        if absurd.any():
            rows = np.flatnonzero(absurd)
            dets.boxes[rows, 0::2] = np.clip(dets.boxes[rows, 0::2], 0, width)
            dets.boxes[rows, 1::2] = np.clip(dets.boxes[rows, 1::2], 0, height)
            log.warning(
                "detection file %s: %s: %s reach far beyond the %dx%d image; clipped to it",
                self.path, key, _entry_list(entries, rows), width, height,
            )  # fmt: skip
        if not outside.any():
            return dets
        log.warning(
            "detection file %s: %s: %s lie wholly outside the %dx%d image; left out",
            self.path, key, _entry_list(entries, np.flatnonzero(outside)), width, height,
        )  # fmt: skip
        keep = np.flatnonzero(~outside)
        return Detections(dets.boxes[keep], dets.scores[keep], None if dets.ids is None else dets.ids[keep])

    def __call__(
        self, frames: Sequence[object] | None, image_ids: Sequence[Hashable] | None = None
    ) -> list[Detections]:
        """One Detections per image id; frames (may be None) only give the image sizes the boxes are checked on."""
        if image_ids is None:
            raise AkitError("the detfile detector needs the image ids (file names or COCO ids) of the frames")
        if frames is not None and len(frames) != len(image_ids):
            raise AkitError(f"{len(frames)} frames but {len(image_ids)} image ids given to the detfile detector")
        sizes = [tuple(f.shape[:2]) if hasattr(f, "shape") else None for f in frames or [None] * len(image_ids)]
        return [self.lookup(key, size) for key, size in zip(image_ids, sizes, strict=True)]

    def coverage(self, image_ids: Sequence[Hashable] | None = None) -> DetFileCoverage:
        """Which frames found no entry and which of the file's image ids no frame matched: for ``image_ids`` when
        given (a check before a run), else for every frame looked up so far (a check after it)."""
        if image_ids is None:
            matches = self._looked_up
        else:
            matches = {key: self._resolve(key) for key in dict.fromkeys(image_ids)}
        used = set(matches.values())
        return DetFileCoverage(
            self.path,
            len(matches),
            [key for key, found in matches.items() if found is None],
            [key for key in self._dets if key not in used],
        )

    def __len__(self) -> int:
        return len(self._dets)

    def __repr__(self) -> str:
        return f"DetFileDetector({str(self.path)!r}, images={len(self._dets)})"


def _entry_list(entries: list[int], rows: np.ndarray) -> str:
    numbers: list[Hashable] = [entries[int(r)] for r in rows]
    return ("entry " if len(numbers) == 1 else "entries ") + _examples(numbers)
