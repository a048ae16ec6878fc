"""Signals at frame boundaries: a Ctrl-C or SIGTERM during a frame's writes waits for them, between frames it acts."""

from __future__ import annotations

import os
import signal

import pytest

from alphapose_kit.utils.signals import frame_boundaries


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_while_writing_waits_for_the_frame(signum) -> None:
    written = []
    with frame_boundaries() as boundaries, pytest.raises(KeyboardInterrupt):
        with boundaries.writing():
            written.append("jsonl line")
            os.kill(os.getpid(), signum)  # delivered here: Python runs the handler before the next bytecode
            written.append("video frame")
        written.append("next frame")
    assert written == ["jsonl line", "video frame"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_between_frames_stops_at_once(signum) -> None:
    with frame_boundaries(), pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signum)
        pytest.fail("the signal did not stop the run")


def test_final_writes_keep_the_signal_for_the_caller_and_handlers_are_restored() -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with frame_boundaries() as boundaries:
        with boundaries.writing(act=False):
            os.kill(os.getpid(), signal.SIGINT)
        assert boundaries.pending  # the run's end saw it: it can report the run as interrupted
    assert {s: signal.getsignal(s) for s in before} == before
