"""Finding the results of an ``akit infer`` run: its ``alphapose-results.json``, or - for a run that never finished
(killed with ``kill -9``, out of memory, power cut) - the frames its ``alphapose-results.jsonl`` stream kept."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_info import read_run_info, run_status
from alphapose_kit.io.writers import JSON_NAME, JSONL_NAME, read_jsonl

log = logging.getLogger("akit.io")


def locate_results(path: str | Path) -> tuple[Path, bool]:
    """The file to read for a results file or run folder, and whether it is the JSONL stream of an unfinished run
    (no final JSON beside it; a warning says so). A missing file is returned as is, for the caller's message."""
    path = Path(path)
    if path.is_dir():
        path = path / JSON_NAME
    stream, final = path.with_name(JSONL_NAME), path.with_name(JSON_NAME)
    if path.name == JSONL_NAME and final.is_file():
        raise AkitError(f"{path} is the streamed copy (one frame per line) of a finished run; read {final}")
    if stream.is_file() and not final.exists() and path.name in (JSON_NAME, JSONL_NAME):
        status = run_status(read_run_info(stream) or {"status": "unknown"})
        log.warning(
            "%s is an unfinished run (no %s; run.json status %s): reading the finished frames of %s",
            stream.parent, JSON_NAME, status, JSONL_NAME,
        )  # fmt: skip
        return stream, True
    return path, False


def stream_records(path: str | Path) -> list[dict[str, Any]]:
    """Every person record of a JSONL results stream, in frame order (a torn last line is skipped)."""
    try:
        return [person for line in read_jsonl(path) for person in line["people"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AkitError(f"cannot read the results stream {path} ({exc!r})") from None
