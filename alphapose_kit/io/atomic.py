"""Atomic file writes: write to a temporary file beside the target, then rename it over the target, so readers
and a crash see either the old file or the whole new one, never half of it."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alphapose_kit.errors import AkitError


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix) to write to; renamed onto ``path`` when the block succeeds,
    removed when it fails. An OSError becomes a one-line AkitError naming ``path``."""
    target = Path(path)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp{target.suffix}")
    try:
        yield tmp
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise AkitError(f"could not write {target} ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str | Iterable[str], sync: bool = True) -> Path:
    """Write ``text`` (a string or chunks of one) to ``path`` atomically; ``sync`` flushes it to disk first."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as handle:
        for chunk in [text] if isinstance(text, str) else text:
            handle.write(chunk)
        if sync:
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)
