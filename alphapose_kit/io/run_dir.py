"""Output folders, one rule for every command: ``-o DIR`` or the next free ``runs/<task>/expN``.

A ``-o`` that already holds outputs of the same command is refused unless ``--exist-ok``; with ``--exist-ok`` those
outputs (and only those: a command names what it writes) are removed first, so no stale file of the previous run
(an old ``vis/`` image, a ``results_det.json`` of a two-pass eval) is mistaken for a new one. A folder the command
created is removed again if the command fails before writing anything into it.

    with run_dir("eval", options.outdir, EVAL_OUTPUTS, exist_ok=options.exist_ok) as outdir:
        ...  # write into outdir
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from alphapose_kit.errors import AkitError

RUNS_ROOT = Path("runs")
RUN_NAME = "exp"


def free_run_dir(root: str | Path, name: str = RUN_NAME) -> Path:
    """``root/exp``, then ``exp2``, ``exp3``...: the first that does not exist yet (not created)."""
    root = Path(root)
    for n in range(1, 100_000):
        candidate = root / (name if n == 1 else f"{name}{n}")
        if not candidate.exists():
            return candidate
    raise AkitError(f"no free run folder under {root}")


def next_run_dir(task: str) -> Path:
    """The next free ``runs/<task>/expN`` (``task``: infer, eval, analyze, train, export, bench)."""
    return free_run_dir(RUNS_ROOT / task)


def existing_outputs(outdir: str | Path, outputs: Iterable[str]) -> list[Path]:
    """The files and folders in ``outdir`` that match ``outputs`` (names or glob patterns relative to it), sorted."""
    outdir = Path(outdir)
    if not outdir.is_dir():
        return []
    return sorted({path for pattern in outputs for path in outdir.glob(pattern)})


def claim_outdir(task: str, outdir: str | Path | None, outputs: Iterable[str], *, exist_ok: bool = False) -> Path:
    """Where ``akit <task>`` writes (not created yet): ``outdir`` or the next free run folder. An ``outdir`` holding
    any of ``outputs`` is refused in one line unless ``exist_ok``, which removes them (nothing else)."""
    if outdir is None:
        return next_run_dir(task)
    path = Path(outdir)
    if path.exists() and not path.is_dir():
        raise AkitError(f"--outdir {path} is a file, not a folder")
    found = existing_outputs(path, outputs)
    if found and not exist_ok:
        raise AkitError(
            f"{path} already holds the outputs of an earlier akit {task} ({found[0].name}); "
            "pass --exist-ok to replace them, or choose another --outdir"
        )
    for stale in found:
        try:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale)
            else:
                stale.unlink()
        except OSError as exc:
            raise AkitError(f"cannot remove {stale} of the earlier run ({exc.strerror or exc})") from None
    return path


def make_dir(path: str | Path) -> list[Path]:
    """Create ``path`` (and its parents) and check it can be written; returns the folders created, outermost first."""
    path = Path(path)
    created = [p for p in (path, *path.parents) if not p.exists()][::-1]
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".akit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        remove_empty(created)
        raise AkitError(f"output folder {path} is not writable ({exc.strerror or exc})") from None
    return created


def ensure_writable_dir(path: str | Path) -> Path:
    """Create ``path`` if needed and check it can be written; one line when it cannot."""
    make_dir(path)
    return Path(path)


def remove_empty(folders: Iterable[Path]) -> None:
    """Remove each of ``folders`` that is empty, innermost first (folders with anything in them stay)."""
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with suppress(OSError):
            folder.rmdir()


@contextmanager
def run_dir(task: str, outdir: str | Path | None, outputs: Iterable[str], *, exist_ok: bool = False) -> Iterator[Path]:
    """:func:`claim_outdir`, then the folder created for the block; should the block fail, the folders it created
    are removed if they are still empty (a failed command leaves no empty ``runs/<task>/expN``)."""
    path = claim_outdir(task, outdir, outputs, exist_ok=exist_ok)
    created = make_dir(path)
    try:
        yield path
    except BaseException:
        remove_empty(created)
        raise
