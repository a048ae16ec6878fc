"""Progress bars that suit where stderr goes: a live bar on a terminal, a few plain lines in a log file.

tqdm redraws its bar with carriage returns; written to a file or a CI log that makes one endless line of ``\\r``
updates. ``progress(...)`` gives tqdm as usual when the stream is a terminal, and otherwise a bar that prints at
most one newline-terminated ASCII status line every ``LOG_INTERVAL`` seconds (plus the final one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any, TextIO

from tqdm import tqdm

__all__ = ["LOG_INTERVAL", "progress"]

LOG_INTERVAL = 30.0  # seconds between status lines when the stream is not a terminal


class _Lines:
    """A text stream for tqdm that turns each ``\\r`` redraw into one plain line (padding and blank writes dropped)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):  # a closed or detached stream
        return False


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str | None = None,
    unit: str = "it",
    disable: bool = False,
    file: TextIO | None = None,
    **kwargs: Any,
) -> tqdm:
    """A tqdm bar on ``file`` (default stderr): live on a terminal, else one plain line every ``LOG_INTERVAL`` s.

    Takes tqdm's arguments (``unit_scale``, ``initial``, ``postfix``, ...) and is used like tqdm: as an iterable
    wrapper, or as a context manager with ``update(n)``.
    """
    stream = file if file is not None else sys.stderr
    if _is_terminal(stream):
        options: dict[str, Any] = {"file": stream, "dynamic_ncols": True}
    else:
        options = {"file": _Lines(stream), "mininterval": LOG_INTERVAL, "maxinterval": LOG_INTERVAL, "ascii": True}
        options["ncols"] = 100
    options.update(kwargs)
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, **options)
