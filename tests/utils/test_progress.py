"""``progress``: tqdm on a terminal, a few plain lines (no carriage returns) in a log."""

from __future__ import annotations

import io

import pytest

from alphapose_kit.utils import progress as progress_module
from alphapose_kit.utils.progress import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_log_gets_plain_lines_at_most_every_interval() -> None:
    log = io.StringIO()
    with progress(total=10_000, desc="w.pth", unit="B", file=log) as bar:
        for _ in range(10_000):  # far faster than LOG_INTERVAL: only the first and the final state are written
            bar.update(1)
    text = log.getvalue()
    lines = text.splitlines()
    assert "\r" not in text and text.endswith("\n")
    assert len(lines) == 2 and lines[0].startswith("w.pth:   0%") and lines[1].startswith("w.pth: 100%")
    assert lines[1].isascii() and "10000/10000" in lines[1]


def test_log_interval_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(progress_module, "LOG_INTERVAL", 0.0)  # every update may print: each is its own line
    log = io.StringIO()
    for _ in progress(range(3), file=log, miniters=1):
        pass
    lines = log.getvalue().splitlines()
    assert "\r" not in log.getvalue() and [line[:4] for line in lines[:4]] == ["  0%", " 33%", " 67%", "100%"]


def test_terminal_gets_the_live_bar() -> None:
    terminal = FakeTerminal()
    for _ in progress(range(5), file=terminal):
        pass
    assert terminal.getvalue().count("\r") >= 2  # redrawn in place


def test_disabled_writes_nothing() -> None:
    log = io.StringIO()
    for _ in progress(range(5), file=log, disable=True):
        pass
    assert log.getvalue() == ""
