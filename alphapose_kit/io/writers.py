"""Writers that never lose finished work: results stream to JSON Lines, the final JSON is written atomically.

``alphapose-results.jsonl`` gets one line per finished frame (flushed), so a run killed half-way keeps every
finished frame; on a normal end (or Ctrl-C) the final ``alphapose-results.json`` is assembled from those lines
into a temporary file and moved into place with one ``os.replace``.

Every frame keeps its own key in every output: the frame's name (a path relative to the source root, see
``data.sources``), made unique with ``_2``, ``_3``... should a name repeat; ``vis/`` and ``sep-json/`` mirror the
names' folders. People with NaN or inf numbers are left out (with a warning): JSON cannot carry them. The COCO format
writes integer image ids (see ``results.CocoImageIds``) and their names in ``image_ids.json``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.io.render import draw_poses
from alphapose_kit.io.results import (
    CocoImageIds,
    FrameResult,
    alphapose_records,
    coco_wholebody_record,
    finite_people,
    openpose_people,
)
from alphapose_kit.io.run_dir import ensure_writable_dir

log = logging.getLogger("akit.io")

FORMATS = ("alphapose", "coco", "openpose")
JSONL_NAME = "alphapose-results.jsonl"
JSON_NAME = "alphapose-results.json"
IDS_NAME = "image_ids.json"  # COCO format: file name -> integer image id
VIDEO_PATTERN = "AlphaPose_*.mp4"  # akit infer names its video AlphaPose_<source>.mp4, as AlphaPose does
OUTPUTS = (JSON_NAME, JSONL_NAME, IDS_NAME, "vis", "sep-json", VIDEO_PATTERN)  # everything a ResultWriter may write


def check_format(fmt: str) -> None:
    """One line for an output format akit does not write."""
    if fmt not in FORMATS:
        raise AkitError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def _dumps(obj: object) -> str:
    """JSON text; NaN and inf are refused (strict parsers reject them), never written."""
    return json.dumps(obj, allow_nan=False)


def claim_name(name: str, used: set[str]) -> str:
    """``name``, or ``<stem>_2<suffix>``, ``_3``... when ``used`` already holds it; the result is added to ``used``."""
    candidate, n = name, 1
    path = PurePosixPath(name)
    while candidate in used:
        n += 1
        candidate = str(path.with_name(f"{path.stem}_{n}{path.suffix}"))
    used.add(candidate)
    return candidate


def safe_relative(name: str) -> PurePosixPath:
    """A frame name as a relative path that stays inside the output folder (no root, drive or '..' parts)."""
    parts = [p for p in PurePosixPath(name.replace("\\", "/")).parts if p not in ("/", ".", "..") and ":" not in p]
    return PurePosixPath(*parts) if parts else PurePosixPath("frame")


def read_jsonl(path: str | Path) -> Iterator[dict]:
    """Frame records of a (possibly interrupted) results stream; a torn last line is skipped."""
    with Path(path).open() as handle:
        for line in handle:
            if not line.endswith("\n"):
                return
            yield json.loads(line)


class ResultWriter:
    """Writes results of one run: JSONL stream, final JSON in the chosen format, rendered video and/or images."""

    def __init__(
        self,
        outdir: str | Path,
        keypoint_set: KeypointSet,
        fmt: str = "alphapose",
        save_video: bool = False,
        save_images: bool = False,
        video_name: str = "result.mp4",
        fps: float = 25.0,
        draw_threshold: float = 0.4,
        by_track: bool = False,
    ) -> None:
        check_format(fmt)
        if fmt == "openpose" and keypoint_set.num_joints < 17:
            raise AkitError("--format openpose needs a COCO-ordered set (COCO-17 or Halpe-26)")
        self.outdir = ensure_writable_dir(outdir)
        self.keypoint_set = keypoint_set
        self.format = fmt
        self.save_video = save_video
        self.save_images = save_images
        self.fps = fps
        self.draw_threshold = draw_threshold
        self.by_track = by_track  # colour and label each person by its track id (idx)
        self.jsonl_path = self.outdir / JSONL_NAME
        self.json_path = self.outdir / JSON_NAME
        self.video_path = self.outdir / video_name
        self._jsonl = self.jsonl_path.open("w")
        self._video: cv2.VideoWriter | None = None
        self._video_size: tuple[int, int] = (0, 0)
        self._keys: set[str] = set()
        self._files: set[str] = set()
        self.coco_ids = CocoImageIds() if fmt == "coco" else None
        self.ids_path = self.outdir / IDS_NAME
        self.frames = 0
        self.people = 0
        self.dropped = 0  # people left out for NaN / inf numbers
        if save_images:
            (self.outdir / "vis").mkdir(exist_ok=True)
        if fmt == "openpose":
            (self.outdir / "sep-json").mkdir(exist_ok=True)

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> dict:
        """Record one finished frame (and render it when asked); the JSONL line is flushed immediately and returned
        (the record ``akit infer --push`` sends)."""
        key = claim_name(result.image_id, self._keys)
        result, dropped = finite_people(result)
        if dropped:
            self.dropped += dropped
            log.warning("%s: %d pose(s) with NaN or inf numbers left out of the outputs", key, dropped)
        stem = None
        if self.format == "openpose" or (image is not None and self.save_images):
            stem = claim_name(str(safe_relative(key).with_suffix("")), self._files)
        line: dict = {"frame": result.frame_index, "image_id": key}
        if self.format == "openpose":
            people = openpose_people(result, self.keypoint_set)
            line["people"] = people
            sep = self.outdir / "sep-json" / f"{stem}.json"
            sep.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(sep, iter([_dumps({"version": "AlphaPose v0.3", "people": people})]), sync=False)
        else:
            records = alphapose_records(result, self.coco_ids(key) if self.coco_ids else key)
            if self.coco_ids is not None:  # COCO-WholeBody's results keep each part in its own field
                records = [coco_wholebody_record(r, self.keypoint_set) for r in records]
            line["people"] = records
        try:
            self._jsonl.write(_dumps(line) + "\n")
            self._jsonl.flush()
        except OSError as exc:
            raise AkitError(f"could not write {self.jsonl_path} ({exc.strerror or exc})") from None
        self.frames += 1
        self.people += result.num_people
        if image is not None and (self.save_video or self.save_images):
            self._render(result, image, stem)
        return line

    def _render(self, result: FrameResult, image: np.ndarray, stem: str | None) -> None:
        canvas = draw_poses(image, result, self.keypoint_set, self.draw_threshold, by_track=self.by_track)
        if self.save_images:
            target = self.outdir / "vis" / f"{stem}.jpg"
            target.parent.mkdir(parents=True, exist_ok=True)
            if not cv2.imwrite(str(target), canvas):
                raise AkitError(f"could not write image {target}")
        if self.save_video:
            if self._video is None:
                self._video_size = canvas.shape[1::-1]
                self._video = cv2.VideoWriter(
                    str(self.video_path), cv2.VideoWriter.fourcc(*"mp4v"), self.fps, self._video_size
                )
                if not self._video.isOpened():
                    raise AkitError(f"could not open video writer for {self.video_path}")
            if canvas.shape[1::-1] != self._video_size:  # images of mixed sizes: fit them to the first one
                canvas = cv2.resize(canvas, self._video_size, interpolation=cv2.INTER_AREA)
            self._video.write(canvas)

    def close(self) -> None:
        """Finish every output: release the video, then assemble the final JSON atomically from the stream."""
        if self._video is not None:
            self._video.release()
            self._video = None
        if self._jsonl.closed:
            return
        self._jsonl.close()
        atomic_write_text(self.json_path, self._final_json_chunks())
        if self.coco_ids is not None:
            atomic_write_text(self.ids_path, iter([json.dumps(self.coco_ids.mapping, indent=1)]))

    def outputs(self) -> list[Path]:
        """The files and folders this writer has produced (for the run summary)."""
        paths = [self.json_path, self.jsonl_path]
        if self.coco_ids is not None:
            paths.append(self.ids_path)
        if self.format == "openpose":
            paths.append(self.outdir / "sep-json")
        if self.save_video and self._video_size != (0, 0):
            paths.append(self.video_path)
        if self.save_images:
            paths.append(self.outdir / "vis")
        return paths

    def _final_json_chunks(self) -> Iterator[str]:
        if self.format == "openpose":
            yield "{"
            first = True
            for record in read_jsonl(self.jsonl_path):
                body = _dumps({"version": "AlphaPose v0.3", "people": record["people"]})
                yield ("" if first else ", ") + f"{_dumps(record['image_id'])}: {body}"
                first = False
            yield "}"
            return
        yield "["
        first = True
        for record in read_jsonl(self.jsonl_path):
            for person in record["people"]:
                yield ("" if first else ", ") + _dumps(person)
                first = False
        yield "]"

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
