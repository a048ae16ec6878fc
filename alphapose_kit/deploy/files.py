"""Output paths of deployment commands: checked before any work, written atomically, nothing left on failure."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_path
from alphapose_kit.io.writers import ensure_writable_dir, next_run_dir


def output_path(output: str | Path | None, default_name: str, task: str = "export") -> Path:
    """Where to write: ``output`` (a file, or a folder - existing or without a suffix - to put ``default_name`` in),
    else ``runs/<task>/expN/``.

    The folder is created and checked for writing now, so a bad path fails before minutes of work. A fresh run folder
    is created only when the work succeeds (see :func:`staged`).
    """
    if output is None:
        return next_run_dir(f"runs/{task}") / default_name
    path = Path(output).expanduser()
    if path.is_dir() or not path.suffix:
        path = path / default_name
    if path.exists() and not path.is_file():
        raise AkitError(f"output path {path} exists and is not a file")
    parent = path.parent
    existed = parent.is_dir()
    ensure_writable_dir(parent)
    if not existed:
        _remove_if_empty(parent)  # recreated by staged() when something is written
    return path


def _remove_if_empty(folder: Path) -> None:
    with suppress(OSError):
        folder.rmdir()


@contextmanager
def staged(path: Path) -> Iterator[Path]:
    """``io.atomic.atomic_path`` for an output whose folder may not exist yet: the folder is created, and removed
    again if it stays empty because the block failed."""
    parent = path.parent
    created = not parent.exists()
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AkitError(f"output folder {parent} cannot be created ({exc.strerror or exc})") from None
    try:
        with atomic_path(path) as tmp:
            yield tmp
    except BaseException:
        if created:
            _remove_if_empty(parent)
        raise


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, atomically."""
    with staged(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
