"""Frame sources: video file, image, directory, glob, webcam index or stream URL -> frames in order.

Frames are decoded in a background thread into a bounded queue, so decoding overlaps the networks and memory
stays flat however long the video is. Images are read with cv2.imread (BGR, EXIF orientation applied), as
AlphaPose does; video frames are named ``<frame index>.jpg`` like AlphaPose names them. An image is named by its
path relative to the source's root (a directory's images: their file names; a glob's: the path below the pattern's
fixed part), so two ``000000.jpg`` in different folders of a recursive glob stay two frames in every output.
"""

from __future__ import annotations

import glob
import logging
import os
import queue
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from alphapose_kit.errors import AkitError

log = logging.getLogger("akit.data")

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv", ".webm")
STREAM_PREFIXES = ("rtsp://", "rtmp://", "http://", "https://", "udp://", "tcp://")


@dataclass
class Frame:
    """One decoded frame: its position in the source, its name (unique within the source) and BGR pixels."""

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
    """Still images read one by one, each named by its path relative to ``root``.

    ``root`` None: the images' common folder (so images of one folder are named by their file names, as AlphaPose
    names them). An unreadable file is an error naming it, or with ``skip_bad`` a warning: it is left out and listed
    in ``skipped``. A JPEG cut short (no end-of-image marker) is still decoded, as OpenCV does, but with a warning,
    and listed in ``truncated``.
    """

    def __init__(
        self,
        paths: Sequence[Path],
        description: str,
        name: str = "images",
        root: str | Path | None = None,
        skip_bad: bool = False,
    ) -> None:
        super().__init__("images", description, name, length=len(paths))
        self.paths = [Path(p) for p in paths]
        self.image_ids = relative_names(self.paths, root)
        self.skip_bad = skip_bad
        self.skipped: list[Path] = []
        self.truncated: list[Path] = []

    def __iter__(self) -> Iterator[Frame]:
        self.skipped, self.truncated = [], []
        for index, (path, image_id) in enumerate(zip(self.paths, self.image_ids, strict=True)):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                if not self.skip_bad:
                    raise AkitError(f"cannot read image {path} (corrupt or not an image); --skip-bad skips such files")
                log.warning("skipping unreadable image %s (corrupt or not an image)", path)
                self.skipped.append(path)
                continue
            if is_truncated_jpeg(path):
                log.warning("image %s is truncated (the JPEG ends before its end marker); its lower part is grey", path)
                self.truncated.append(path)
            yield Frame(index, image_id, image)


def relative_names(paths: Sequence[Path], root: str | Path | None = None) -> list[str]:
    """Each path relative to ``root`` (default: the paths' common folder), '/'-separated: unique names for unique
    files, also when two folders hold the same file name."""
    if root is None:
        try:
            root = os.path.commonpath([os.path.abspath(p.parent) for p in paths]) if paths else "."
        except ValueError:  # different drives (Windows): no common folder
            return [p.name for p in paths]
    base = os.path.abspath(root)
    names = []
    for p in paths:
        rel = os.path.relpath(os.path.abspath(p), base)
        names.append(p.name if rel.startswith("..") else Path(rel).as_posix())
    return names


def glob_root(pattern: str) -> Path:
    """The fixed folder a glob pattern searches below: its leading components without wildcards."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return Path(*fixed) if fixed else Path(".")


_JPEG_TAIL = 4096  # bytes searched for the end-of-image marker; scan data cannot hold FF D9 (bytes are stuffed)


def is_truncated_jpeg(path: Path) -> bool:
    """True for a JPEG file without an end-of-image marker (FF D9) near its end: a download or copy cut short."""
    try:
        with path.open("rb") as handle:
            if handle.read(2) != b"\xff\xd8":
                return False
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(2, size - _JPEG_TAIL))
            return b"\xff\xd9" not in handle.read()
    except OSError:
        return False


class VideoSource(FrameSource):
    """A video file, webcam or stream through OpenCV; frames are named '<index>.jpg'."""

    def __init__(self, target: str | int, kind: str, description: str, name: str) -> None:
        capture = _open_capture(target, description)
        fps = capture.get(cv2.CAP_PROP_FPS) or 0.0
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        length = count if kind == "video" and count > 0 else None
        self._header_frames = count
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
            if self.length is None and self.kind == "video" and self._header_frames == 0:
                raise AkitError(f"{self.description} holds no frames (a valid but empty video)")
            raise AkitError(f"no frame could be decoded from {self.description} (corrupt, empty or unsupported)")


def _open_capture(target: str | int, description: str) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(target)
    if not capture.isOpened():
        capture.release()
        if isinstance(target, str) and is_empty_mp4(Path(target)):
            raise AkitError(f"{description} holds no frames (a valid but empty video)")
        raise AkitError(f"cannot open {description} (unreadable, corrupt or unsupported)")
    return capture


_ISO_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl"}  # boxes whose payload is more boxes


def _iso_boxes(data: bytes) -> list[tuple[bytes, bytes]] | None:
    """(type, payload) of the ISO-BMFF boxes that exactly tile ``data``; None when they do not (not such a file)."""
    boxes, at = [], 0
    while at < len(data):
        if len(data) - at < 8:
            return None
        size, kind = int.from_bytes(data[at : at + 4], "big"), data[at + 4 : at + 8]
        header = 8
        if size == 1:  # 64-bit size
            if len(data) - at < 16:
                return None
            size, header = int.from_bytes(data[at + 8 : at + 16], "big"), 16
        elif size == 0:  # box runs to the end
            size = len(data) - at
        if size < header or at + size > len(data):
            return None
        boxes.append((kind, data[at + header : at + size]))
        at += size
    return boxes


def is_empty_mp4(path: Path, max_bytes: int = 1 << 20) -> bool:
    """True for a well-formed MP4/MOV (ISO-BMFF boxes tiling the whole file, ftyp + moov) whose movie has no track
    with samples: a video with 0 frames, which OpenCV cannot open and would otherwise pass for a corrupt file."""
    try:
        if not path.is_file() or path.stat().st_size > max_bytes:  # a file with frames is larger; do not read it all
            return False
        data = path.read_bytes()
    except OSError:
        return False
    top = _iso_boxes(data)
    if not top or top[0][0] != b"ftyp":
        return False
    movies = [payload for kind, payload in top if kind == b"moov"]
    if len(movies) != 1:
        return False
    return not _has_samples(movies[0])


def _has_samples(payload: bytes) -> bool:
    """Whether a moov payload holds a sample size table (stsz) that counts at least one sample."""
    for kind, inner in _iso_boxes(payload) or []:
        if kind == b"stsz" and len(inner) >= 12 and int.from_bytes(inner[8:12], "big") > 0:
            return True
        if kind in _ISO_CONTAINERS and _has_samples(inner):
            return True
    return False


def open_source(source: str | Path | int, skip_bad: bool = False) -> FrameSource:
    """Pick the reader for a source string; a missing or empty input is one AkitError line.

    ``skip_bad``: an image source warns about unreadable images and goes on (see :class:`ImageListSource`).
    """
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
        return ImageListSource(images, f"directory {path}", path.resolve().name or "images", path, skip_bad)
    if not path.exists() and any(ch in text for ch in "*?["):
        images = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).suffix.lower() in IMAGE_SUFFIXES)
        if not images:
            raise AkitError(f"no images match {text}")
        return ImageListSource(images, f"glob {text}", "glob", glob_root(text), skip_bad)
    if not path.exists():
        raise AkitError(f"input not found: {path}")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageListSource([path], f"image {path}", path.stem, path.parent, skip_bad)
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
