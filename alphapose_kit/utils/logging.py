"""The library's logging: every module logs to the "akit" logger (or a child); only the CLI attaches a handler.

Under torchrun only rank 0 speaks, so a DDP run prints each message once.
"""

from __future__ import annotations

import logging
import os
import sys

LOGGER_NAME = "akit"


def get_logger(name: str | None = None) -> logging.Logger:
    """The "akit" logger, or its child "akit.<name>"."""
    return logging.getLogger(f"{LOGGER_NAME}.{name}" if name else LOGGER_NAME)


def is_main_process() -> bool:
    """True outside torchrun and on its rank 0."""
    return int(os.environ.get("RANK", "0")) == 0


class _CurrentStderr(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time of each record (it may be replaced after set-up)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


class _MainProcessOnly(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return is_main_process()


def setup_cli_logging(level: int = logging.INFO) -> None:
    """Send "akit" records to stderr as ``akit: message`` lines (once per process; rank 0 only under torchrun)."""
    logger = get_logger()
    if any(getattr(h, "_akit_cli", False) for h in logger.handlers):
        return
    handler = _CurrentStderr()
    handler.setFormatter(logging.Formatter("akit: %(message)s"))
    handler.addFilter(_MainProcessOnly())
    handler._akit_cli = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
