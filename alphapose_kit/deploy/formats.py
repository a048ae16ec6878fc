"""The model formats akit writes and runs, in one table: each format's ``--format`` name, the file suffixes it is
written and recognised by, the runtime (``--backend``) that runs it and the precisions ``akit export`` writes it in.

Every list of formats, suffixes, backends and precisions is derived from :data:`FORMATS` (the layout follows the
idea of Ultralytics' ``export_formats()`` table, docs.ultralytics.com/modes/export). Imports nothing heavy, so
option classes and the CLI can use it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alphapose_kit.errors import AkitError


@dataclass(frozen=True)
class ModelFormat:
    """One row of the table: a format, the files it lives in, what runs it and what ``akit export`` writes."""

    name: str  # --format value
    title: str  # for messages
    runtime: str  # --backend value that runs it
    suffixes: tuple[str, ...]  # the first is the one akit writes
    precisions: tuple[str, ...]  # what akit export writes; empty: not written by akit export

    @property
    def suffix(self) -> str:
        """The suffix akit gives the files it writes in this format."""
        return self.suffixes[0]


CONFIG_SUFFIXES = (".yaml", ".yml")
CHECKPOINT_SUFFIX = ".pth"
FORMATS: tuple[ModelFormat, ...] = (
    # a YAML config and a .pth checkpoint (what akit export --prune writes); every other suffix counts as a config
    ModelFormat("torch", "PyTorch", "torch", (*CONFIG_SUFFIXES, CHECKPOINT_SUFFIX), ()),
    ModelFormat("onnx", "ONNX", "onnxruntime", (".onnx",), ("fp32", "fp16", "int8")),
    ModelFormat("torchscript", "TorchScript", "torchscript", (".pt", ".ts", ".torchscript", ".jit"), ("fp32", "fp16")),
)
TORCH = FORMATS[0]
RUNTIMES = tuple(f.runtime for f in FORMATS)  # --backend of akit infer
EXPORT_FORMATS = tuple(f.name for f in FORMATS if f.precisions)  # --format of akit export
#: ``akit bench --backends``: every runtime at fp32, ONNX Runtime at INT8, and the pruned torch network
BENCH_BACKENDS = (*RUNTIMES, "int8", "pruned")


def export_format(name: str) -> ModelFormat:
    """The row of an ``akit export --format`` value; one line for a format akit cannot write."""
    for fmt in FORMATS:
        if fmt.name == name and fmt.precisions:
            return fmt
    raise AkitError(f"unknown format {name!r}; choose one of {', '.join(EXPORT_FORMATS)}")


def precision_of(half: bool, int8: bool) -> str:
    """``--half`` / ``--int8`` as a precision name; one line when both are given."""
    if int8 and half:
        raise AkitError("--int8 and --half exclude each other")
    return "int8" if int8 else "fp16" if half else "fp32"


def check_export(name: str, precision: str) -> ModelFormat:
    """The row of ``name``, checked to be written in ``precision`` (one line naming the formats that are)."""
    fmt = export_format(name)
    if precision not in fmt.precisions:
        able = " or ".join(f.name for f in FORMATS if precision in f.precisions)
        raise AkitError(f"--{'half' if precision == 'fp16' else precision} needs --format {able}")
    return fmt


def format_of(path: str | Path) -> ModelFormat:
    """The format of a model file by its suffix; anything not exported (a config, a zoo name) is the torch row."""
    suffix = Path(path).suffix.lower()
    return next((fmt for fmt in FORMATS if fmt.precisions and suffix in fmt.suffixes), TORCH)


def runtime_format(runtime: str) -> ModelFormat:
    """The row a ``--backend`` value runs; one line for an unknown one."""
    for fmt in FORMATS:
        if fmt.runtime == runtime:
            return fmt
    raise AkitError(f"unknown backend {runtime!r}; choose one of {', '.join(RUNTIMES)}")
