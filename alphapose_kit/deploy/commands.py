"""``akit export`` and ``akit bench`` as library calls: :func:`export` and :func:`bench` take the options the CLI
is made from (or the same names as keyword arguments), check them before anything slow, and do the whole command.

    from alphapose_kit.deploy import export, bench
    export(checkpoint="W.pth", int8=True, calib="person_keypoints_val2017.json", output="pose-int8.onnx")
    bench(checkpoint="W.pth", backends="torch,onnxruntime", batch="1,8", device="cpu")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from alphapose_kit.deploy.benchmark import BenchResult, run_bench
from alphapose_kit.deploy.calibration import make_detector
from alphapose_kit.deploy.exporters import export_detector, export_pose
from alphapose_kit.deploy.files import check_free
from alphapose_kit.deploy.formats import export_format
from alphapose_kit.deploy.int8 import report_path_for, summary_lines
from alphapose_kit.deploy.options import BenchOptions, ExportOptions
from alphapose_kit.deploy.prune import PruneResult, prune_pose, pruned_paths
from alphapose_kit.deploy.result import ExportResult
from alphapose_kit.utils.device import resolve_device


@dataclass
class ExportRun:
    """What ``akit export`` made: the pruned YAML + .pth pair (``--prune``), the exported model, or both."""

    pruned: PruneResult | None = None
    exported: ExportResult | None = None

    def lines(self) -> list[str]:
        """What ``akit export`` prints: pruning figures, the check against PyTorch, the INT8 report, the files."""
        lines = []
        if self.pruned is not None:
            lines += [self.pruned.line(), f"wrote {self.pruned.config_path} and {self.pruned.checkpoint_path}"]
        if self.exported is not None:
            lines.append(self.exported.comparison.line())
            if self.exported.report:
                lines += summary_lines(self.exported.report)
            lines.append(self.exported.line())
        return lines


def _model_choice(config: str | None, checkpoint: str | None) -> tuple[Any, str | None]:
    """The config and weights to use, by the rule every command shares (``engine.infer.resolve_model_choice``)."""
    from alphapose_kit.engine.infer import resolve_model_choice

    return resolve_model_choice(config, checkpoint)


def export(options: ExportOptions | None = None, **kwargs: Any) -> ExportRun:
    """Run ``akit export``: prune (``prune``), then export (``fmt``, default onnx) and check against PyTorch.

    ``options`` or the same fields as keyword arguments (``export(checkpoint="W.pth", half=True)``).
    """
    options = options if options is not None else ExportOptions(**kwargs)
    options.validate()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    fmt = options.export_format()
    if options.detector is not None:
        exported = export_detector(
            options.detector, options.detector_weights, fmt=fmt or "onnx", output=options.output,
            input_size=options.input_size, opset=options.opset, dynamic_batch=options.dynamic_batch,
            half=options.half, calib=options.calib, conf=options.conf, nms=options.nms, exist_ok=options.exist_ok,
        )  # fmt: skip
        return ExportRun(exported=exported)
    config, checkpoint = _model_choice(options.config, options.checkpoint)
    finder = None
    if options.calib_is_images():
        finder = make_detector(
            options.calib_detector, options.calib_detector_weights, options.calib_detfile, conf=options.conf,
            nms=options.nms,
        )  # fmt: skip
    opts, output, model, pruned = list(options.opts), options.output, None, None
    if options.prune is not None:
        yaml_path, _ = pruned_paths(config, options.prune, output, options.exist_ok)
        target = yaml_path.with_suffix(export_format(fmt).suffix) if fmt is not None else None
        if target is not None:  # the export beside the pruned pair must be free too, before minutes of pruning
            check_free([target, report_path_for(target)] if options.int8 else [target], options.exist_ok)
        pruned = prune_pose(
            config, checkpoint, options.prune, importance=options.importance, output=output, calib=options.calib,
            opts=opts, exist_ok=options.exist_ok,
        )  # fmt: skip
        if target is None:
            return ExportRun(pruned=pruned)
        config, checkpoint, model, opts, output = pruned.cfg, None, pruned.model, [], str(target)
    exported = export_pose(
        config, checkpoint, fmt=fmt or "onnx", output=output, opset=options.opset,
        dynamic_batch=options.dynamic_batch, half=options.half, int8=options.int8_options(), calib=options.calib,
        calib_images=options.calib_images, detector=finder, opts=opts, model=model, exist_ok=options.exist_ok,
    )  # fmt: skip
    return ExportRun(pruned=pruned, exported=exported)


def bench(options: BenchOptions | None = None, **kwargs: Any) -> BenchResult:
    """Run ``akit bench``: time every backend at every batch side by side, and end to end on ``source`` if given.

    ``options`` or the same fields as keyword arguments (``bench(checkpoint="W.pth", batch="1,8")``).
    """
    options = options if options is not None else BenchOptions(**kwargs)
    options.validate()
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    device = resolve_device(options.device)  # once; the detector and every backend get this torch.device
    config, checkpoint = _model_choice(options.config, options.checkpoint)
    detector = None
    if options.source is not None:
        detector = make_detector(
            options.detector, options.detector_weights, options.detfile, device, conf=options.conf, nms=options.nms
        )
    ratio = {"prune_ratio": options.prune_ratio} if options.prune_ratio is not None else {}
    return run_bench(
        config, checkpoint, backends=options.backend_names(), batches=options.batch_sizes(), device=device,
        rounds=options.rounds, warmup=options.warmup, output=options.output, calib=options.calib,
        source=options.source, frames=options.frames, detector=detector, opts=options.opts,
        exist_ok=options.exist_ok, **ratio,
    )  # fmt: skip
