"""``akit export --int8``: fp32 ONNX -> calibrated QDQ INT8 model, plus the report that says what it cost and gained.

The report (printed and saved as ``<model>.report.json``) gives file sizes, latency percentiles and throughput of
torch fp32, ONNX Runtime fp32 and ONNX Runtime INT8 measured side by side in the same run, heatmap error and
keypoint agreement of INT8 against fp32 on held-out crops (never used for calibration), the layers that lose most
SQNR, and AP before/after when the calibration source has keypoint annotations.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.data.coco import CocoAnnotations
from alphapose_kit.deploy.calibration import PersonCrops, is_coco_file
from alphapose_kit.deploy.files import staged, write_json
from alphapose_kit.deploy.metadata import embed_onnx, pose_metadata
from alphapose_kit.deploy.onnx_export import export_onnx
from alphapose_kit.deploy.quantize import Int8Options, has_vnni, quantize, sensitive_layers
from alphapose_kit.deploy.result import ExportResult
from alphapose_kit.deploy.runtime import OnnxRuntimeNetwork
from alphapose_kit.deploy.timing import Backend, machine_name, measure, table, with_ratios
from alphapose_kit.deploy.verify import TOLERANCES, Tolerance, check_tolerance, compare_pose_networks
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import get_logger

log = get_logger("deploy")
SENSITIVE_CROPS = 4  # held-out crops the per-layer SQNR is measured on
SENSITIVE_TOP = 5


def report_path_for(model_path: Path) -> Path:
    """``pose-int8.onnx`` -> ``pose-int8.report.json``."""
    return model_path.with_name(model_path.stem + ".report.json")


def _split(crops: PersonCrops, options: Int8Options) -> tuple[PersonCrops, PersonCrops]:
    """Calibration crops first, held-out crops after; at least one of each."""
    if len(crops) < 2:
        raise AkitError(f"INT8 needs at least 2 person crops (calibration + held out); the source gave {len(crops)}")
    held = min(options.held_out, len(crops) // 2)
    calib = min(options.calib_size, len(crops) - held)
    return crops.take(slice(0, calib)), crops.take(slice(calib, calib + held))


def ap_before_after(
    cfg: CfgNode,
    networks: dict[str, nn.Module],
    calib_source: str | Path | None,
    image_dir: str | Path | None,
    folder: Path,
) -> dict[str, Any]:
    """COCO keypoint AP of each network through ``akit eval`` (ground-truth boxes) when the calibration source is a
    COCO keypoint file; a note otherwise."""
    if calib_source is None or not is_coco_file(Path(calib_source)):
        return {"note": "the calibration source has no keypoint annotations (give a COCO file); AP not measured"}
    annotated, predicted = CocoAnnotations(calib_source).num_joints, int(cfg.DATA_PRESET.NUM_JOINTS)
    if annotated != predicted:
        return {
            "note": f"the calibration file annotates {annotated} joints and the model predicts {predicted} "
            "(give a file of the model's joints to measure AP); AP not measured"
        }
    from alphapose_kit import evaluate

    images = Path(image_dir) if image_dir is not None else Path(calib_source).parent
    result: dict[str, Any] = {
        "annotations": str(calib_source),
        "boxes": "gt",
        "note": "AP on the annotation file's images, the calibration people included",
    }
    for name, network in networks.items():
        metrics = evaluate(
            calib_source, images, model=network, config=cfg, outdir=str(folder / f"eval-{name}"), workers=0,
            device="cpu", quiet=True,
        )  # fmt: skip
        result[name] = metrics["AP"]
    return result


def export_int8(
    cfg: CfgNode,
    model: nn.Module,
    crops: PersonCrops,
    path: Path,
    options: Int8Options,
    opset: int,
    dynamic_batch: bool,
    calib_source: str | Path | None = None,
    calib_images: str | Path | None = None,
) -> ExportResult:
    """Quantise ``model`` to INT8 at ``path`` (report beside it); fails, writing nothing, below the agreement floor."""
    calib, held = _split(crops, options)
    batch = 8 if dynamic_batch else 1
    base = pose_metadata(cfg, precision="fp32", fmt="onnx", dynamic_batch=dynamic_batch, opset=opset)
    with tempfile.TemporaryDirectory(prefix="akit-int8-") as folder:
        fp32_path, prepared = Path(folder) / "fp32.onnx", Path(folder) / "prepared.onnx"
        export_onnx(
            model,
            torch.from_numpy(calib.crops[: 2 if dynamic_batch else 1]),
            fp32_path,
            base,
            opset=opset,
            dynamic_batch=dynamic_batch,
        )
        fp32_net = OnnxRuntimeNetwork(fp32_path, threads=torch.get_num_threads())  # as many threads as torch
        check_tolerance(
            compare_pose_networks(model, fp32_net, held.crops, base["loss_type"], base["norm_type"]),
            TOLERANCES["fp32"],
            "the fp32 ONNX model INT8 starts from",
        )
        log.info("calibrating on %d crops (%s)", len(calib), options.method)
        int8_raw = Path(folder) / "int8.onnx"
        excluded = quantize(fp32_path, prepared, int8_raw, calib.crops, base["input_name"], options, batch)
        int8_settings = {
            "calibration": {
                "source": str(calib_source) if calib_source is not None else "akit development data",
                "method": options.method,
                "crops": len(calib),
                "per_channel": options.per_channel,
                "reduce_range": not has_vnni(),
            },
            "keep_fp32": list(options.keep_fp32),
            "fp32_nodes": excluded,
        }
        metadata = {**base, "precision": "int8", "int8": int8_settings}
        import onnx

        proto = onnx.load(str(int8_raw))
        embed_onnx(proto, metadata)
        onnx.save(proto, str(int8_raw))
        int8_net = OnnxRuntimeNetwork(int8_raw, threads=torch.get_num_threads())
        comparison = compare_pose_networks(model, int8_net, held.crops, base["loss_type"], base["norm_type"])
        log.info("INT8 vs fp32: %s", comparison.line())
        sensitive = sensitive_layers(
            prepared, int8_raw, held.crops[:SENSITIVE_CROPS], base["input_name"], SENSITIVE_TOP, skip=excluded
        )
        floor = Tolerance(TOLERANCES["int8"].rtol, TOLERANCES["int8"].atol, options.min_agreement)
        try:
            check_tolerance(comparison, floor, "the INT8 model")
        except AkitError as exc:
            worst = ", ".join(layer["module"] or layer["node"] for layer in sensitive[:3])
            raise AkitError(f"{exc} (most sensitive layers: {worst}; keep them in fp32 with --keep-fp32)") from None
        rows: list[dict[str, Any]] = []
        if options.bench_rounds > 0:
            log.info("timing torch fp32, ORT fp32 and ORT INT8 side by side")
            network = model.to(memory_format=torch.channels_last)
            timings = measure(
                [Backend("torch", network), Backend("onnxruntime", fp32_net), Backend("int8", int8_net)],
                options.bench_batches,
                (3, *cfg.DATA_PRESET.IMAGE_SIZE),
                rounds=options.bench_rounds,
            )
            rows = with_ratios(timings)
        report = {
            "model": base["model"],
            "machine": machine_name(),
            "threads": torch.get_num_threads(),
            "sizes": {
                "fp32_bytes": fp32_path.stat().st_size,
                "int8_bytes": int8_raw.stat().st_size,
                "ratio": fp32_path.stat().st_size / int8_raw.stat().st_size,
            },
            "latency": rows,
            "accuracy_int8_vs_fp32": {**comparison.as_dict(), "held_out_crops": len(held)},
            "ap": ap_before_after(cfg, {"fp32": model, "int8": int8_net}, calib_source, calib_images, Path(folder)),
            "sensitive_layers": sensitive,
            **int8_settings,
        }
        report_path = report_path_for(path)
        with staged(path) as tmp:
            shutil.move(str(int8_raw), tmp)  # the temporary folder may be on another file system
            write_json(report_path, report)
    return ExportResult(path, comparison, metadata, report_path, report)


def summary_lines(report: dict[str, Any]) -> list[str]:
    """The INT8 report in a few lines for the terminal."""
    sizes, acc = report["sizes"], report["accuracy_int8_vs_fp32"]
    lines = [
        f"size: fp32 {sizes['fp32_bytes'] / 1e6:.1f} MB -> INT8 {sizes['int8_bytes'] / 1e6:.1f} MB "
        f"({sizes['ratio']:.2f}x smaller)",
        f"INT8 vs fp32 on {acc['held_out_crops']} held-out crops: max abs heatmap error {acc['max_abs_error']:.3g}, "
        f"keypoint agreement {100 * acc['agreement']:.2f} %",
        f"latency on {report['machine']} ({report['threads']} threads):",
        table(report["latency"]) if report["latency"] else "(not measured)",
        "most sensitive layers (SQNR lost, dB): "
        + ", ".join(f"{s['module'] or s['node']} {s['loss_db']:.1f}" for s in report["sensitive_layers"]),
        _ap_line(report["ap"]),
    ]
    return lines


def _ap_line(ap: dict[str, Any]) -> str:
    if "fp32" not in ap:
        return f"AP: {ap['note']}"
    return f"COCO AP ({ap['boxes']} boxes): fp32 {ap['fp32']:.4f} -> INT8 {ap['int8']:.4f} ({ap['note']})"
