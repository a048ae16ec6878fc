"""One source of a batch, as it runs on a worker: ``akit infer`` of that source alone, written into a temporary
sibling of ``OUTDIR/<name>`` and renamed into place when it finished, so a worker that dies mid-video (and is
retried) never leaves half a result where a finished one belongs."""

from __future__ import annotations

import dataclasses
import glob
import os
import shutil
import time
import uuid
from pathlib import Path

from alphapose_kit.batch.manifest import SourceResult
from alphapose_kit.batch.sources import BatchSource
from alphapose_kit.engine.infer import run_inference
from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_info import read_run_info, write_run_info

PARTIAL = "partial"
REPLACED = "replaced"


def run_source(item: BatchSource, options: InferOptions, outdir: Path) -> SourceResult:
    """Run ``akit infer`` on ``item`` with ``options`` into ``outdir/<item.name>``; its own error (AkitError: a
    corrupt file, a detection file that fits no frame) is its failed result, anything else propagates."""
    final = outdir / item.name
    remove_leftovers(outdir, item.name)  # what an earlier attempt that died here left
    work = outdir / f".{item.name}.{PARTIAL}-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    try:
        summary = run_inference(dataclasses.replace(options, source=item.source, outdir=str(work), quiet=True))
        _point_run_info_at(work, final)
        _move_into_place(work, final)
    except AkitError as exc:
        shutil.rmtree(work, ignore_errors=True)
        return SourceResult(item.name, item.source, "failed", seconds=time.perf_counter() - started, error=str(exc))
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return SourceResult(
        item.name,
        item.source,
        "done",
        frames=summary.frames,
        people=summary.people,
        seconds=time.perf_counter() - started,
        outputs=sorted(path.relative_to(work).as_posix() for path in summary.outputs),
    )


def remove_leftovers(outdir: Path, name: str) -> None:
    """Delete the temporary folders that attempts at ``name`` left behind (a worker killed mid-video)."""
    for kind in (PARTIAL, REPLACED):
        for path in glob.glob(str(outdir / f".{glob.escape(name)}.{kind}-*")):
            shutil.rmtree(path, ignore_errors=True)


def _point_run_info_at(work: Path, final: Path) -> None:
    """Rewrite run.json as ``akit infer --outdir final`` writes it: the run moves there, so its outdir is that."""
    info = read_run_info(work)
    if info is None:
        return
    size = (info["width"], info["height"]) if info["width"] else None
    options = {**info["options"], "outdir": str(final)}
    write_run_info(
        work,
        source=info["source"],
        fps=info["fps"],
        frames=info["frames"],
        size=size,
        model=info["model"],
        options=options,
    )


def _move_into_place(work: Path, final: Path) -> None:
    """Rename the finished ``work`` folder to ``final``; an earlier ``final`` is moved aside first and then deleted,
    so at every moment ``final`` is a whole result or absent."""
    try:
        if final.exists():
            aside = final.with_name(f".{final.name}.{REPLACED}-{uuid.uuid4().hex[:8]}")
            os.replace(final, aside)
            os.replace(work, final)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            os.replace(work, final)
    except OSError as exc:
        raise AkitError(f"could not move the results into {final} ({exc.strerror or exc})") from None
