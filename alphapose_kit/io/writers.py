"""Writers that never lose finished work: results stream to JSON Lines, the final JSON is written atomically.

``alphapose-results.jsonl`` gets one line per finished frame (flushed), so a run killed half-way keeps every
finished frame; on a normal end (or Ctrl-C) the final ``alphapose-results.json`` is assembled from those lines
into a temporary file and moved into place with one ``os.replace``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from alphapose_kit.data.keypoints import KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.io.render import draw_poses
from alphapose_kit.io.results import FrameResult, alphapose_records, openpose_people

FORMATS = ("alphapose", "coco", "openpose")
JSONL_NAME = "alphapose-results.jsonl"
JSON_NAME = "alphapose-results.json"


def check_format(fmt: str) -> None:
    """One line for an output format akit does not write."""
    if fmt not in FORMATS:
        raise AkitError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def next_run_dir(root: str | Path = "runs/infer", name: str = "exp") -> Path:
    """``runs/infer/exp``, then ``exp2``, ``exp3``...: a fresh folder that never overwrites an earlier run."""
    root = Path(root)
    for n in range(1, 100_000):
        candidate = root / (name if n == 1 else f"{name}{n}")
        if not candidate.exists():
            return candidate
    raise AkitError(f"no free run folder under {root}")


def ensure_writable_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and check it can be written; one line when it cannot."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".akit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise AkitError(f"output folder {path} is not writable ({exc.strerror or exc})") from None
    return path


def _atomic_write_text(path: Path, chunks: Iterator[str], sync: bool = True) -> None:
    """Write to a temporary file and rename it over ``path``: readers see the old file or the whole new one."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w") as handle:
            for chunk in chunks:
                handle.write(chunk)
            if sync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise AkitError(f"could not write {path} ({exc.strerror or exc})") from None


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
        self.jsonl_path = self.outdir / JSONL_NAME
        self.json_path = self.outdir / JSON_NAME
        self.video_path = self.outdir / video_name
        self._jsonl = self.jsonl_path.open("w")
        self._video: cv2.VideoWriter | None = None
        self._video_size: tuple[int, int] = (0, 0)
        self.frames = 0
        self.people = 0
        if save_images:
            (self.outdir / "vis").mkdir(exist_ok=True)
        if fmt == "openpose":
            (self.outdir / "sep-json").mkdir(exist_ok=True)

    def write(self, result: FrameResult, image: np.ndarray | None = None) -> None:
        """Record one finished frame (and render it when asked); the JSONL line is flushed immediately."""
        line = {"frame": result.frame_index, "image_id": result.image_id}
        if self.format == "openpose":
            people = openpose_people(result)
            line["people"] = people
            sep = self.outdir / "sep-json" / f"{Path(result.image_id).stem}.json"
            _atomic_write_text(sep, iter([json.dumps({"version": "AlphaPose v0.3", "people": people})]), sync=False)
        else:
            line["people"] = alphapose_records(result, coco_ids=self.format == "coco")
        try:
            self._jsonl.write(json.dumps(line) + "\n")
            self._jsonl.flush()
        except OSError as exc:
            raise AkitError(f"could not write {self.jsonl_path} ({exc.strerror or exc})") from None
        self.frames += 1
        self.people += result.num_people
        if image is not None and (self.save_video or self.save_images):
            self._render(result, image)

    def _render(self, result: FrameResult, image: np.ndarray) -> None:
        canvas = draw_poses(image, result, self.keypoint_set, self.draw_threshold)
        if self.save_images:
            name = Path(result.image_id).stem + ".jpg"
            if not cv2.imwrite(str(self.outdir / "vis" / name), canvas):
                raise AkitError(f"could not write image {self.outdir / 'vis' / name}")
        if self.save_video:
            if self._video is None:
                self._video_size = canvas.shape[1::-1]
                self._video = cv2.VideoWriter(
                    str(self.video_path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self._video_size
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
        _atomic_write_text(self.json_path, self._final_json_chunks())

    def _final_json_chunks(self) -> Iterator[str]:
        if self.format == "openpose":
            yield "{"
            first = True
            for record in read_jsonl(self.jsonl_path):
                body = json.dumps({"version": "AlphaPose v0.3", "people": record["people"]})
                yield ("" if first else ", ") + f"{json.dumps(record['image_id'])}: {body}"
                first = False
            yield "}"
            return
        yield "["
        first = True
        for record in read_jsonl(self.jsonl_path):
            for person in record["people"]:
                yield ("" if first else ", ") + json.dumps(person)
                first = False
        yield "]"

    def __enter__(self) -> ResultWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
