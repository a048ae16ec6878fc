"""Results files: image ids as the annotation file names them, reading COCO / AlphaPose results, writing COCO ones.

A COCO keypoint results file is a JSON list of ``{"image_id": int, "category_id": int, "keypoints": [x, y, s, ...],
"score": float[, "bbox": [x, y, w, h]]}``. AlphaPose's ``alphapose-results.json`` has the same fields but names
the image by its file name (``"000000000785.jpg"``) and carries ``box`` and ``idx`` instead of ``bbox``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alphapose_kit.data.coco import CocoAnnotations
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.io.run_results import locate_results, stream_records


class ImageIds:
    """Maps what a results or detection file calls an image to the annotation's integer id.

    Accepted: the integer id itself, the annotation's ``file_name`` (or a path ending in its base name), or a name
    whose stem is the id (``000000000785.jpg`` for id 785, as AlphaPose names COCO images).
    """

    def __init__(self, annotations: CocoAnnotations) -> None:
        self.ids = set(annotations.images)
        self.by_name: dict[str, int] = {}
        for image_id, entry in annotations.images.items():
            self.by_name[str(entry["file_name"])] = image_id
            self.by_name.setdefault(os.path.basename(str(entry["file_name"])), image_id)

    def resolve(self, value: Hashable) -> int | None:
        """The annotation's id for ``value``, or None when it names no image of the annotation file."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            return value if value in self.ids else None
        if isinstance(value, float) and value.is_integer():
            return int(value) if int(value) in self.ids else None
        if not isinstance(value, str):
            return None
        found = self.by_name.get(value, self.by_name.get(os.path.basename(value)))
        if found is not None:
            return found
        stem = os.path.splitext(os.path.basename(value))[0].split("_")[-1]
        return int(stem) if stem.isdigit() and int(stem) in self.ids else None


def _finite_numbers(values: object, count: int | None = None) -> bool:
    return (
        isinstance(values, list)
        and (count is None or len(values) == count)
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values)
    )


@dataclass
class LoadedResults:
    """A results file mapped onto the annotation: COCO records with integer ids, and what matched no image."""

    records: list[dict[str, Any]]
    unmatched: int


def read_json_file(path: Path, what: str) -> Any:
    """The JSON in ``path``; a missing or unreadable file is one line naming ``what`` it should have been."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AkitError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise AkitError(f"{what} {path} is not readable JSON ({err})") from None


def read_results(path: str | Path, image_ids: ImageIds, num_joints: int, category_id: int = 1) -> LoadedResults:
    """COCO or AlphaPose results -> COCO records (integer ids; ``bbox`` kept only when every record has one).

    Records naming no image of the annotation are dropped and counted; none matching, an empty file or a record
    without keypoints / score is a one-line error.
    """
    path, streamed = locate_results(path)  # a file, an akit infer run folder, or an unfinished run's stream
    data = stream_records(path) if streamed else read_json_file(path, "results file")
    if not isinstance(data, list):
        raise AkitError(f"results file {path} must hold a JSON list of results, found a {type(data).__name__}")
    if not data:
        raise AkitError(f"results file {path} is empty: nothing to evaluate")
    records, unmatched = [], 0
    for n, rec in enumerate(data):
        if not isinstance(rec, dict) or "image_id" not in rec:
            raise AkitError(f"results file {path}: entry {n} is not a result with an image_id")
        if not _finite_numbers(rec.get("keypoints"), 3 * num_joints):
            raise AkitError(f"results file {path}: entry {n} needs 'keypoints' with {3 * num_joints} finite numbers")
        if not _finite_numbers([rec.get("score")]):
            raise AkitError(f"results file {path}: entry {n} needs a finite 'score'")
        image_id = image_ids.resolve(rec["image_id"])
        if image_id is None:
            unmatched += 1
            continue
        out = {
            "image_id": image_id,
            "category_id": int(rec.get("category_id", category_id)),
            "keypoints": [float(v) for v in rec["keypoints"]],
            "score": float(rec["score"]),
        }
        if _finite_numbers(rec.get("bbox"), 4):
            out["bbox"] = [float(v) for v in rec["bbox"]]
        records.append(out)
    if not records:
        first = data[0]["image_id"]
        raise AkitError(
            f"no result of {path} names an image of the annotation file ({len(data)} results, first image_id {first!r})"
        )
    if any("bbox" not in r for r in records):  # pycocotools decides from the first record alone: keep it uniform
        for r in records:
            r.pop("bbox", None)
    return LoadedResults(records, unmatched)


def write_json(path: str | Path, value: Any) -> Path:
    """``value`` as JSON, written atomically (temporary file, then rename)."""
    path = Path(path)
    atomic_write_text(path, iter([json.dumps(value)]))
    return path


def write_results(path: str | Path, records: Iterable[dict[str, Any]]) -> Path:
    """COCO results, one record per line inside the list, written atomically."""
    path = Path(path)
    rows = [json.dumps(r) for r in records]
    atomic_write_text(path, iter(["[\n", ",\n".join(rows), "\n]\n"]))
    return path
