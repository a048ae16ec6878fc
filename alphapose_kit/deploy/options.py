"""``akit export``'s and ``akit bench``'s options, declared once: each field carries its CLI flags and help (the CLI
is made from them) and :meth:`validate` checks everything cheap before any weights are fetched or models built.

Kept free of torch at import time, so building the CLI stays fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphapose_kit.deploy.formats import BENCH_BACKENDS, check_export, precision_of
from alphapose_kit.deploy.quantize import Int8Options
from alphapose_kit.engine.options import checkpoint_option, config_option, device_option, option
from alphapose_kit.errors import AkitError

DEFAULT_PRUNE_RATIO = 0.3  # akit bench's pruned backend
EXPORTED_BACKENDS = ("torchscript", "onnxruntime", "int8")  # bench backends made by an (import-checked) export


def parse_list(text: str, kind: type = str) -> list[Any]:
    """``"torch,int8"`` -> ['torch', 'int8']; ``"1,8"`` with ``kind=int`` -> [1, 8] (one line on a bad item)."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        values = [kind(item) for item in items]
    except ValueError:
        raise AkitError(f"cannot read {text!r} as a comma-separated list of {kind.__name__}") from None
    if not values:
        raise AkitError("an empty list was given")
    return values


def check_backends(names: list[str]) -> None:
    """One line for a backend ``akit bench`` does not know."""
    unknown = [name for name in names if name not in BENCH_BACKENDS]
    if unknown:
        raise AkitError(f"unknown backend {unknown[0]!r}; choose from {', '.join(BENCH_BACKENDS)}")


def check_batches(batches: list[int]) -> None:
    """One line for a batch size below 1."""
    if any(b < 1 for b in batches):
        raise AkitError(f"batch sizes must be at least 1, got {list(batches)}")


def check_at_least(flag: str, value: int | None, least: int) -> None:
    """One line for a count below ``least`` (None: not given)."""
    if value is not None and value < least:
        raise AkitError(f"{flag} must be at least {least}, got {value}")


def check_thresholds(conf: float | None, nms: float | None) -> None:
    """A detector's --conf in [0, 1) and --nms in [0, 1] (the ranges :class:`YOLODetector` accepts), checked before
    its weights are fetched."""
    if conf is not None and not (math.isfinite(conf) and 0 <= conf < 1):
        raise AkitError(f"--conf is a detector score threshold in [0, 1), got {conf}")
    if nms is not None and not (math.isfinite(nms) and 0 <= nms <= 1):
        raise AkitError(f"--nms is an IoU threshold in [0, 1], got {nms}")


def _names(values: list[str] | None) -> tuple[str, ...]:
    """``--keep-fp32 a,b --keep-fp32 c`` -> ('a', 'b', 'c')."""
    return tuple(name.strip() for value in values or [] for name in value.split(",") if name.strip())


def _check_sources(calib: str | None, needed: bool, what: str, people: bool = True) -> None:
    """A given calibration source exists and has something to crop; without one, the default must exist."""
    from alphapose_kit.deploy.calibration import check_source, default_source

    if calib is not None:
        check_source(calib, people)
    elif needed and default_source() is None:
        raise AkitError(f"checking {what} needs real people: pass --calib (a COCO keypoint file, images or a video)")


@dataclass(kw_only=True)
class ExportOptions:
    """Everything ``akit export`` takes: the model (or ``--detector``), the format and precision, INT8 calibration,
    pruning and the output. ``--prune`` alone writes only the pruned YAML + .pth."""

    config: str | None = config_option()
    checkpoint: str | None = checkpoint_option()
    fmt: str | None = option(None, "--format", "-f", help="onnx or torchscript")
    output: str | None = option(None, "--output", "-o", help="file or folder (default runs/export/expN)")
    exist_ok: bool = option(False, "--exist-ok", help="replace an existing --output file")
    dynamic_batch: bool = option(False, "--dynamic-batch", help="any batch size (default: 1)")
    opset: int = option(19, "--opset", help="ONNX opset (DCN needs 19)")
    half: bool = option(False, "--half", help="float16 weights and input")
    detector: str | None = option(None, "--detector", help="export this detector (yolov3-spp, yolov5s...)")
    detector_weights: str | None = option(None, "--detector-weights", help="detector weights file")
    input_size: int | None = option(None, "--input-size", help="detector letterbox side")
    conf: float | None = option(None, "--conf", help="detector confidence threshold (--detector, --calib-detector)")
    nms: float | None = option(None, "--nms", help="detector NMS IoU threshold (--detector, --calib-detector)")
    int8: bool = option(False, "--int8", help="INT8 static quantisation (ONNX Runtime, QDQ)")
    calib: str | None = option(None, "--calib", help="COCO keypoint file, images or video of people")
    calib_images: str | None = option(None, "--calib-images", help="image folder of a COCO file")
    calib_detector: str = option("yolov3-spp", "--calib-detector", help="finds people in --calib images")
    calib_detector_weights: str | None = option(None, "--calib-detector-weights", help="its weights file")
    calib_detfile: str | None = option(None, "--calib-detfile", help="boxes for --calib images")
    calib_method: str = option(Int8Options.method, "--calib-method", help="minmax, entropy or percentile")
    calib_size: int = option(Int8Options.calib_size, "--calib-size", help="crops to calibrate on")
    per_channel: bool = option(Int8Options.per_channel, "--per-channel/--per-tensor", help="weight scales")
    keep_fp32: list[str] | None = option(None, "--keep-fp32", help="layers left in fp32 (a,b)")  # noqa: RUF009 (a field)
    min_agreement: float | None = option(
        None, "--min-agreement", help=f"INT8 keypoint agreement floor (default {Int8Options.min_agreement})"
    )
    prune: float | None = option(None, "--prune", help="channel ratio to remove, in (0, 1)")
    importance: str = option("l2", "--importance", help="l1, l2 or taylor")
    threads: int | None = option(None, "--threads", help="CPU threads for torch")
    opts: list[str] = field(default_factory=list)  # config overrides: --opts KEY VALUE ... (last on the line)

    def export_format(self) -> str | None:
        """The format to write: ``--format``, else onnx; None for ``--prune`` alone (YAML + .pth only)."""
        if self.fmt is not None:
            return self.fmt
        return None if self.prune is not None and not (self.int8 or self.half) else "onnx"

    def calib_is_images(self) -> bool:
        """Whether ``--calib`` is images or a video (whose people a detector or ``--calib-detfile`` gives)."""
        return self.calib is not None and not self.calib.lower().endswith(".json")

    def int8_options(self) -> Int8Options | None:
        """The :class:`~alphapose_kit.deploy.quantize.Int8Options` of these flags (None without ``--int8``)."""
        if not self.int8:
            return None
        return Int8Options(
            method=self.calib_method,
            calib_size=self.calib_size,
            per_channel=self.per_channel,
            keep_fp32=_names(self.keep_fp32),
            min_agreement=Int8Options.min_agreement if self.min_agreement is None else self.min_agreement,
        )

    def validate(self) -> None:
        """Reject bad values and flags without effect in one line, before any weights are fetched."""
        check_at_least("--threads", self.threads, 1)
        check_thresholds(self.conf, self.nms)
        fmt = self.export_format()
        precision = precision_of(self.half, self.int8)
        if fmt is not None:
            check_export(fmt, precision)
        if not self.int8 and (self.min_agreement is not None or self.keep_fp32):
            flag = "--min-agreement" if self.min_agreement is not None else "--keep-fp32"
            raise AkitError(f"{flag} applies to INT8 exports: it needs --int8")
        finds = self.calib_is_images() and self.calib_detfile is None
        if (self.conf is not None or self.nms is not None) and not (self.detector or finds):
            raise AkitError(
                "--conf and --nms are detector thresholds: they need --detector, or --calib images or a video "
                "(whose people --calib-detector finds)"
            )
        if self.calib_detfile is not None and not self.calib_is_images():
            raise AkitError("--calib-detfile gives the boxes of --calib images or a video: it needs such a --calib")
        if self.calib_images is not None and not Path(self.calib_images).is_dir():
            raise AkitError(f"--calib-images {self.calib_images} is not a folder")
        if self.detector is not None:
            self._validate_detector()
        elif self.input_size is not None:
            raise AkitError("--input-size is a detector's letterbox side: it needs --detector")
        if self.prune is not None:
            from alphapose_kit.deploy.prune import check_importance, check_ratio, taylor_source

            check_ratio(self.prune)
            check_importance(self.importance)
            if self.importance == "taylor":
                taylor_source(self.calib)
        int8 = self.int8_options()
        if int8 is not None:
            int8.validate()
        _check_sources(self.calib, fmt is not None, "an export", people=self.detector is None)

    def _validate_detector(self) -> None:
        if self.int8 or self.prune is not None:
            raise AkitError("--int8 and --prune apply to pose networks, not to --detector exports")
        if self.input_size is not None and (self.input_size <= 0 or self.input_size % 32):
            raise AkitError(f"--input-size must be a positive multiple of 32, got {self.input_size}")


@dataclass(kw_only=True)
class BenchOptions:
    """Everything ``akit bench`` takes: the model, the backends and batch sizes to time, and optionally a source to
    time the whole pipeline on."""

    config: str | None = config_option()
    checkpoint: str | None = checkpoint_option()
    backends: str = option("torch,onnxruntime,int8", "--backends", help=", ".join(BENCH_BACKENDS))
    batch: str = option("1,8", "--batch", "-b", help="batch sizes, e.g. 1,8,32")
    device: str = device_option()
    rounds: int = option(10, "--rounds", help="timed calls per backend and batch")
    warmup: int = option(2, "--warmup", help="untimed calls first")
    output: str | None = option(None, "--output", "-o", help="JSON path (default runs/bench/expN)")
    exist_ok: bool = option(False, "--exist-ok", help="replace an existing --output file")
    calib: str | None = option(None, "--calib", help="COCO keypoint file for the exports' checks and INT8")
    prune_ratio: float | None = option(
        None, "--prune-ratio", help=f"for the pruned backend (default {DEFAULT_PRUNE_RATIO})"
    )
    source: str | None = option(None, "--source", help="video/images for end-to-end frames/s")
    frames: int = option(50, "--frames", help="frames of --source to time")
    detector: str = option("yolov3-spp", "--detector", "-d", help="end-to-end detector")
    detector_weights: str | None = option(None, "--detector-weights", help="its weights file")
    detfile: str | None = option(None, "--detfile", help="precomputed boxes instead of a detector")
    conf: float | None = option(None, "--conf", help="end-to-end detector confidence threshold")
    nms: float | None = option(None, "--nms", help="end-to-end detector NMS IoU threshold")
    threads: int | None = option(None, "--threads", help="CPU threads for torch")
    opts: list[str] = field(default_factory=list)  # config overrides: --opts KEY VALUE ... (last on the line)

    def backend_names(self) -> list[str]:
        """``--backends`` as a list without repeats, each one known."""
        names = list(dict.fromkeys(parse_list(self.backends)))
        check_backends(names)
        return names

    def batch_sizes(self) -> list[int]:
        """``--batch`` as a list of sizes, each at least 1."""
        batches = parse_list(self.batch, int)
        check_batches(batches)
        return batches

    def validate(self) -> None:
        """Reject bad values and flags without effect in one line, before any weights are fetched."""
        for flag, value, least in (
            ("--threads", self.threads, 1), ("--rounds", self.rounds, 1), ("--warmup", self.warmup, 0),
            ("--frames", self.frames, 1),
        ):  # fmt: skip
            check_at_least(flag, value, least)
        names = self.backend_names()
        self.batch_sizes()
        check_thresholds(self.conf, self.nms)
        if self.prune_ratio is not None:
            if "pruned" not in names:
                raise AkitError("--prune-ratio is the pruned backend's ratio: it needs pruned in --backends")
            from alphapose_kit.deploy.prune import check_ratio

            check_ratio(self.prune_ratio, "--prune-ratio")
        exported = [name for name in names if name in EXPORTED_BACKENDS]
        if self.calib is not None and not exported:
            needs = " or ".join(EXPORTED_BACKENDS)
            raise AkitError(f"--calib gives the crops exports are checked on: it needs {needs} in --backends")
        if (self.conf is not None or self.nms is not None) and (self.source is None or self.detfile is not None):
            raise AkitError(
                "--conf and --nms are the end-to-end detector's thresholds: they need --source, not --detfile"
            )
        _check_sources(self.calib, bool(exported), f"the {exported[0]} export" if exported else "an export")
        if self.source is not None:
            from alphapose_kit.data.sources import open_source

            open_source(self.source)  # a missing or unreadable source is named before any detector weights are fetched
