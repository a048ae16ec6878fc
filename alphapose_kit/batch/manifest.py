"""``OUTDIR/manifest.json``: one entry per finished source of a batch (source, folder, status, counts, time, error),
rewritten atomically after each, so a rerun knows what is done and a reader never sees half a file."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.results import read_json_file
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.io.run_dir import ensure_writable_dir

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "akit-batch/1"
STATUSES = ("done", "failed")
# settings that change how a run goes, not what it writes: a rerun may differ in these and still resume
RUN_ONLY_OPTIONS = ("source", "outdir", "exist_ok", "quiet", "threads", "ray")


@dataclass
class SourceResult:
    """How one source ended: ``done`` with its counts and output files (relative to its folder), or ``failed``
    with a one-line error. ``seconds``: wall time on its worker, model loading included."""

    name: str
    source: str
    status: str
    frames: int = 0
    people: int = 0
    seconds: float = 0.0
    error: str | None = None
    outputs: list[str] = field(default_factory=list)

    def line(self) -> str:
        """One log line for this source."""
        if self.status == "done":
            return f"{self.name}: {self.frames} frames, {self.people} people in {self.seconds:.1f} s"
        return f"{self.name}: failed: {self.error}"


def result_options(options: InferOptions) -> dict[str, Any]:
    """The options that decide a source's results (everything but :data:`RUN_ONLY_OPTIONS`), as JSON values."""
    values = dataclasses.asdict(options)
    return {key: value for key, value in values.items() if key not in RUN_ONLY_OPTIONS}


@dataclass
class Manifest:
    """The manifest of one OUTDIR: the result options of the batch and its entries by folder name, in order."""

    outdir: Path
    options: dict[str, Any]
    entries: dict[str, SourceResult] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return self.outdir / MANIFEST_NAME

    @classmethod
    def open(cls, outdir: Path, options: InferOptions) -> Manifest:
        """The manifest to continue in ``outdir``: its own when it was made with the same result options, else a
        new one. A folder with other files but no manifest, or one made with other options, is refused unless
        ``options.exist_ok`` (then every source is run again)."""
        wanted = result_options(options)
        if not (outdir / MANIFEST_NAME).is_file():
            if outdir.is_dir() and any(outdir.iterdir()) and not options.exist_ok:
                raise AkitError(f"{outdir} holds files but no {MANIFEST_NAME}; pass --exist-ok or another --outdir")
            return cls(outdir, wanted)
        earlier = cls.load(outdir)
        if earlier.options == wanted:
            return earlier
        if options.exist_ok:
            return cls(outdir, wanted)
        keys = wanted.keys() | earlier.options.keys()
        changed = sorted(key for key in keys if wanted.get(key) != earlier.options.get(key))
        raise AkitError(
            f"{outdir} holds a batch run with other settings ({', '.join(changed)}); "
            "pass --exist-ok to run every source again, or another --outdir"
        )

    @classmethod
    def load(cls, outdir: Path) -> Manifest:
        """Read ``outdir/manifest.json``; one line naming the file when it is not a batch manifest."""
        path = outdir / MANIFEST_NAME
        data = read_json_file(path, "batch manifest")
        try:
            if data["format"] != MANIFEST_FORMAT:
                raise ValueError(f"format {data['format']!r}, expected {MANIFEST_FORMAT!r}")
            entries = [SourceResult(**entry) for entry in data["sources"]]
            options = dict(data["options"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AkitError(f"{path} is not an akit batch manifest ({exc}); pass another --outdir") from None
        return cls(outdir, options, {entry.name: entry for entry in entries})

    def save(self) -> Path:
        """Write the manifest atomically (its folder is made when needed)."""
        ensure_writable_dir(self.outdir)
        data = {
            "format": MANIFEST_FORMAT,
            "options": self.options,
            "sources": [dataclasses.asdict(entry) for entry in self.entries.values()],
        }
        return atomic_write_text(self.path, json.dumps(data, indent=2, default=str) + "\n")

    def record(self, result: SourceResult, order: Sequence[str] = ()) -> None:
        """Store one finished source and rewrite the file; entries named in ``order`` (the batch's sources) are kept
        in that order, after the entries of earlier batches, whatever order the sources finish in."""
        self.entries[result.name] = result
        rank = {name: i for i, name in enumerate(order)}
        names = sorted(self.entries, key=lambda name: rank.get(name, -1))
        self.entries = {name: self.entries[name] for name in names}
        self.save()

    def names(self) -> dict[str, str]:
        """Source -> folder name of every entry: the names a rerun keeps."""
        return {entry.source: entry.name for entry in self.entries.values()}

    def is_done(self, name: str) -> bool:
        """Whether ``name`` finished and every output file it listed is still there."""
        entry = self.entries.get(name)
        if entry is None or entry.status != "done":
            return False
        return all((self.outdir / name / output).is_file() for output in entry.outputs)

    def failed(self) -> list[SourceResult]:
        """The entries whose source failed."""
        return [entry for entry in self.entries.values() if entry.status == "failed"]

    def line(self) -> str:
        """The one-line summary of the batch."""
        done = sum(entry.status == "done" for entry in self.entries.values())
        failed = self.failed()
        text = f"{done} of {len(self.entries)} sources done"
        if failed:
            shown = "; ".join(entry.line() for entry in failed[:3]) + ("; ..." if len(failed) > 3 else "")
            text += f", {len(failed)} failed ({shown})"
        return f"{text} -> {self.path}"
