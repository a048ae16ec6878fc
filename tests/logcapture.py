"""Capture what the library logs to the "akit" logger, whatever the CLI did to it earlier in the session.

``setup_cli_logging`` stops "akit" records from reaching the root logger (where pytest's caplog listens), so tests
attach their own handler to "akit" itself.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def captured_logs(level: int = logging.DEBUG) -> Iterator[list[str]]:
    """The messages logged to "akit" (and its children) inside the block, formatted, in order."""
    messages: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("akit")
    handler = _Collect(level)
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(min(level, old_level) if old_level else level)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
