"""Frame sources: video file, image, directory, glob, webcam index or stream URL -> frames in order.

Frames are decoded in a background thread into a bounded queue, so decoding overlaps the networks and memory
stays flat however long the video is. Images are read with cv2.imread (BGR, EXIF orientation applied), as
AlphaPose does; video frames are named ``<frame index>.jpg`` like AlphaPose names them.
"""

from __future__ import annotations

import glob
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from alphapose_kit.errors import AkitError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".webm")
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass
class Frame:
    """One decoded frame: its position in the source, the name AlphaPose would give it, and BGR pixels."""

    index: int
    image_id: str
    image: np.ndarray


class FrameSource:
    """An ordered, re-iterable source of frames with a known kind ('video', 'images', 'webcam', 'stream')."""

    def __init__(self, kind: str, description: str, name: str, fps: float = 0.0, length: int | None = None) -> None:
        self.kind = kind
        self.description = description
        self.name = name  # for output file names, e.g. AlphaPose_<name>.mp4
        self.fps = fps
        self.length = length  # None when unknown (webcam, stream, some containers)

    def __iter__(self) -> Iterator[Frame]:
        raise NotImplementedError


class ImageListSource(FrameSource):
    """Still images read one by one; an unreadable file is an error naming it."""

    def __init__(self, paths: list[Path], description: str, name: str = "images") -> None:
        super().__init__("images", description, name, length=len(paths))
        self.paths = paths

    def __iter__(self) -> Iterator[Frame]:
        for index, path in enumerate(self.paths):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise AkitError(f"cannot read image {path} (corrupt or not an image)")
            yield Frame(index, path.name, image)


class VideoSource(FrameSource):
    """A video file, webcam or stream through OpenCV; frames are named '<index>.jpg'."""

    def __init__(self, target: str | int, kind: str, description: str, name: str) -> None:
        capture = _open_capture(target, description)
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        length = count if kind == "video" and count > 0 else None
        super().__init__(kind, description, name, fps=fps if fps > 0 else 25.0, length=length)
        self.target = target
        self._capture: cv2.VideoCapture | None = capture  # kept for the first pass: cameras may not reopen at once

    def __iter__(self) -> Iterator[Frame]:
        capture, self._capture = self._capture, None
        if capture is None:
            capture = _open_capture(self.target, self.description)
        index = 0
        try:
            while True:
                ok, image = capture.read()
                if not ok or image is None:
                    break
                yield Frame(index, f"{index}.jpg", image)
                index += 1
        finally:
            capture.release()
        if index == 0:
            raise AkitError(f"no frame could be decoded from {self.description} (corrupt, empty or unsupported)")


def _open_capture(target: str | int, description: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        raise AkitError(f"cannot open {description} (unreadable, corrupt or unsupported)")
    return capture


def open_source(source: str | Path | int) -> FrameSource:
    """Pick the reader for a source string; a missing or empty input is one AkitError line."""
    text = str(source)
    if isinstance(source, int) or text.isdigit():
        return VideoSource(int(text), "webcam", f"webcam {text}", f"webcam{text}")
    if text.lower().startswith(STREAM_PREFIXES):
        return VideoSource(text, "stream", f"stream {text}", "stream")
    path = Path(text)
    if path.is_dir():
        images = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise AkitError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in directory {path}")
        return ImageListSource(images, f"directory {path}", path.resolve().name or "images")
    if not path.exists() and any(ch in text for ch in "*?["):
        images = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise AkitError(f"no images match {text}")
        return ImageListSource(images, f"glob {text}", "glob")
    if not path.exists():
        raise AkitError(f"input not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageListSource([path], f"image {path}", path.stem)
    if path.suffix.lower() in VIDEO_SUFFIXES or path.is_file():
        return VideoSource(str(path), "video", f"video {path}", path.stem)
    raise AkitError(f"unsupported input {path}; give a video, an image, a directory, a glob, a webcam index or a URL")


_END = object()


class ThreadedReader:
    """Iterate a FrameSource from a background thread through a bounded queue (flat memory, no processes).

    Errors in the reader thread are re-raised in the consumer; ``close()`` stops the thread promptly.
    """

    def __init__(self, source: FrameSource, max_queue: int = 16) -> None:
        self.source = source
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name="akit-reader", daemon=True)
        self._started = False

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _work(self) -> None:
        try:
            for frame in self.source:
                if not self._put(frame):
                    return
        except BaseException as exc:  # handed to the consumer thread, which raises it
            self._put(exc)
            return
        self._put(_END)

    def __iter__(self) -> Iterator[Frame]:
        if not self._started:
            self._started = True
            self._thread.start()
        try:
            while True:
                item = self._queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            self.close()

    def close(self) -> None:
        """Stop the reader thread and drop queued frames."""
        self._stop.set()
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._started:
            self._thread.join(timeout=5)
