"""Output paths of deployment commands: checked before any work, never silently replaced, written atomically, and
nothing left behind on failure (no half-written file, no empty ``runs/<task>/expN``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_path
from alphapose_kit.io.run_dir import ensure_writable_dir, next_run_dir


def output_path(output: str | Path | None, default_name: str, task: str = "export", exist_ok: bool = False) -> Path:
    """Where to write: ``output`` (a file, or a folder - existing or without a suffix - to put ``default_name`` in),
    else ``runs/<task>/expN/``.

    The folder is checked for writing now, so a bad path fails before minutes of work; folders are created only when
    the work succeeds (see :func:`staged`). An existing file is refused unless ``exist_ok``.
    """
    if output is None:
        return next_run_dir(task) / default_name
    path = Path(output).expanduser()
    if path.is_dir() or not path.suffix:
        path = path / default_name
    if path.exists() and not path.is_file():
        raise AkitError(f"output path {path} exists and is not a file")
    check_free([path], exist_ok)
    created = _missing_folders(path.parent)
    ensure_writable_dir(path.parent)
    _remove_empty(created)  # recreated by staged() when something is written
    return path


def config_stem(config: str | Path | object) -> str:
    """The name outputs made from a config are called after: its file's stem, ``pose`` for a loaded config."""
    return Path(config).stem if isinstance(config, (str, Path)) else "pose"


def check_free(paths: Iterable[Path], exist_ok: bool) -> None:
    """One line for the first of ``paths`` that exists, unless ``exist_ok`` (then it is replaced when written)."""
    if exist_ok:
        return
    taken = next((path for path in paths if path.exists()), None)
    if taken is not None:
        raise AkitError(f"{taken} already exists; pass --exist-ok to replace it, or choose another --output")


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, innermost first."""
    return [p for p in (folder, *folder.parents) if not p.exists()]


def _remove_empty(folders: Iterable[Path]) -> None:
    """Remove each folder (innermost first) while it is empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


@contextmanager
def staged(path: Path) -> Iterator[Path]:
    """``io.atomic.atomic_path`` for an output whose folder may not exist yet: the folders are created, and removed
    again if they stay empty because the block failed."""
    created = _missing_folders(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AkitError(f"output folder {path.parent} cannot be created ({exc.strerror or exc})") from None
    try:
        with atomic_path(path) as tmp:
            yield tmp
    except BaseException:
        _remove_empty(created)
        raise


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON at ``path``, atomically."""
    with staged(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
