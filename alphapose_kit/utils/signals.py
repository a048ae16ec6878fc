"""Stopping a run cleanly: SIGTERM gets Ctrl-C's treatment (what ``timeout``, ``docker stop``, systemd and Slurm
send), and a signal that arrives while a frame's outputs are being written waits until they are all written, so
the results, the video and the images never disagree by a frame."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread (elsewhere: no change)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class FrameBoundaries:
    """SIGINT/SIGTERM raise KeyboardInterrupt at once between frames, and only after the frame inside
    :meth:`writing` has been written in full."""

    def __init__(self) -> None:
        self.pending = False  # a signal came while writing and has not been acted on yet
        self._writing = False

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._writing:
            self.pending = True
            return
        raise KeyboardInterrupt

    @contextmanager
    def writing(self, act: bool = True) -> Iterator[None]:
        """Signals wait until the block ends; then (``act``) a waiting one raises KeyboardInterrupt. With
        ``act=False`` it stays in :attr:`pending` for the caller (e.g. while the final files are written)."""
        self._writing = True
        try:
            yield
        finally:
            self._writing = False
        if act and self.pending:
            self.pending = False
            raise KeyboardInterrupt


@contextmanager
def frame_boundaries() -> Iterator[FrameBoundaries]:
    """Within the block, SIGINT and SIGTERM are taken at frame boundaries (main thread only; elsewhere the
    handlers stay as they are and :meth:`FrameBoundaries.writing` defers nothing)."""
    boundaries = FrameBoundaries()
    if threading.current_thread() is not threading.main_thread():
        yield boundaries
        return
    previous = {signum: signal.signal(signum, boundaries._handle) for signum in STOP_SIGNALS}
    try:
        yield boundaries
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
