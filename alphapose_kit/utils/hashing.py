"""File hashes, for pinning weight files and recording the datasets a training run read."""

from __future__ import annotations

import hashlib
from pathlib import Path

_BLOCK = 1 << 20  # bytes per read


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in blocks (weights are hundreds of MB)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()
