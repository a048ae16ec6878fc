"""Batch inputs: videos, folders of videos, globs and text files listing them, expanded to one entry per source,
each with its own output folder name under OUTDIR."""

from __future__ import annotations

import glob
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from alphapose_kit.data.sources import STREAM_PREFIXES, VIDEO_SUFFIXES
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import get_logger

log = get_logger("batch")
LIST_SUFFIXES = (".txt",)
GLOB_CHARS = "*?["


@dataclass(frozen=True)
class BatchSource:
    """One source of a batch: what ``akit infer`` reads (an absolute path or a URL) and its folder under OUTDIR."""

    source: str
    name: str


def expand_sources(sources: Sequence[str], taken: Mapping[str, str] | None = None) -> list[BatchSource]:
    """Every video the arguments name, in order, each once, with distinct folder names (see :func:`assign_names`).

    A folder gives the videos directly in it, a glob the videos it matches, a ``.txt`` file the entries it lists
    (one a line, ``#`` starts a comment line, paths relative to the list); a file is taken as it is. ``taken``
    (source -> name, from an earlier manifest) keeps earlier names, so a rerun writes to the same folders.
    """
    if not sources:
        raise AkitError("no sources given: pass videos, folders, globs or a .txt list of them")
    found = [item for entry in sources for item in _expand(entry, Path.cwd(), allow_list=True)]
    unique = list(dict.fromkeys(found))
    if len(unique) < len(found):
        log.warning(f"{len(found) - len(unique)} source(s) named more than once are run once")
    return assign_names(unique, taken or {})


def assign_names(sources: Sequence[str], taken: Mapping[str, str]) -> list[BatchSource]:
    """Each source's folder: its file stem, or ``stem-2``, ``stem-3``... when a name is used already (two ``a.mp4``
    in different folders; compared case-blind for case-insensitive file systems). Sources in ``taken`` keep theirs."""
    used = {name.casefold() for name in taken.values()}
    named = []
    for source in sources:
        name = taken.get(source)
        if name is None:
            stem = _stem(source)
            name, n = stem, 1
            while name.casefold() in used:
                n += 1
                name = f"{stem}-{n}"
            used.add(name.casefold())
        named.append(BatchSource(source, name))
    return named


def _stem(source: str) -> str:
    """A folder name from a source: the file name without its suffix; never hidden, never empty."""
    path = PurePosixPath(urlparse(source).path) if _is_url(source) else Path(source)
    return path.stem.lstrip(".") or "source"


def _is_url(text: str) -> bool:
    return text.lower().startswith(STREAM_PREFIXES)


def _expand(entry: str, base: Path, allow_list: bool) -> list[str]:
    """The sources one argument (or list line) names, as absolute paths; relative paths are taken from ``base``."""
    if _is_url(entry):
        return [entry]
    path = Path(entry).expanduser()
    path = path if path.is_absolute() else base / path
    if path.is_dir():
        videos = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)
        if not videos:
            raise AkitError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) in folder {path}")
        return [str(p.resolve()) for p in videos]
    if path.is_file():
        if path.suffix.lower() not in LIST_SUFFIXES:
            return [str(path.resolve())]
        if not allow_list:
            raise AkitError(f"a source list cannot name another list ({path}): list videos, folders or globs")
        return _read_list(path)
    if any(ch in entry for ch in GLOB_CHARS):
        matches = sorted(Path(p) for p in glob.glob(str(path), recursive=True))
        videos = [p for p in matches if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
        if not videos:
            raise AkitError(f"no videos ({', '.join(VIDEO_SUFFIXES)}) match {entry}")
        return [str(p.resolve()) for p in videos]
    raise AkitError(f"input not found: {path}")


def _read_list(path: Path) -> list[str]:
    """The sources a text file lists: one a line; blank lines and lines starting with ``#`` are ignored; errors
    name the line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AkitError(f"cannot read source list {path} ({exc})") from None
    found: list[str] = []
    for number, line in enumerate(lines, 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        try:
            found.extend(_expand(entry, path.parent, allow_list=False))
        except AkitError as exc:
            raise AkitError(f"{path}:{number}: {exc}") from None
    if not found:
        raise AkitError(f"source list {path} names no sources")
    return found
