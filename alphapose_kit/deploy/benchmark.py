"""``akit bench``'s work: build every backend of a pose network (exports checked against PyTorch as usual), time
them side by side with :func:`~alphapose_kit.deploy.timing.measure`, optionally end to end on a source, and save
the rows as JSON and a plot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from alphapose_kit.deploy.options import DEFAULT_PRUNE_RATIO, check_at_least, check_backends, check_batches
from alphapose_kit.deploy.timing import BASELINE, Backend, machine_name, measure, with_ratios


def plot(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    """Median latency per crop vs batch size, one line per backend, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=120)
    for backend in dict.fromkeys(r["backend"] for r in rows):
        points = sorted((r["batch"], r["p50_ms"] / r["batch"]) for r in rows if r["backend"] == backend)
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=backend)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("batch size")
    ax.set_ylabel("median latency per crop (ms)")
    ax.set_title(title, fontsize=9)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


@dataclass
class BenchResult:
    """Rows of the network benchmark, end-to-end figures, and where they were saved."""

    rows: list[dict[str, Any]]
    end_to_end: list[dict[str, Any]]
    info: dict[str, Any]
    json_path: Path | None = None
    png_path: Path | None = None

    def lines(self) -> list[str]:
        """What ``akit bench`` prints: the setting, the table, end-to-end rates, the files written."""
        from alphapose_kit.deploy.timing import table

        info = self.info
        lines = [
            f"# {info['model']}, input {info['input_size']}, {info['machine']} ({info['device']}, {info['threads']} "
            f"threads), {info['rounds']} alternating rounds after {info['warmup']} warm-up",
            table(self.rows),
        ]
        for row in self.end_to_end:
            ratio = "" if row["x_torch"] is None else f" ({row['x_torch']:.2f}x torch)"
            lines.append(f"end to end ({row['backend']}): {row['fps']:.2f} frames/s over {row['frames']} frames{ratio}")
        lines.append(f"wrote {self.json_path} and {self.png_path}")
        return lines


def _build_backends(
    names: Sequence[str], cfg: Any, model: Any, device: torch.device, folder: Path, calib: Any, prune_ratio: float
) -> list[Backend]:
    """The networks to time, exported into ``folder`` (each export checked against PyTorch as usual)."""
    import copy

    from alphapose_kit.deploy.exporters import export_pose
    from alphapose_kit.deploy.quantize import Int8Options
    from alphapose_kit.deploy.runtime import OnnxRuntimeNetwork, TorchScriptNetwork

    cpu = torch.device("cpu")
    built = []
    for name in names:
        if name == "torch":
            network: Any = copy.deepcopy(model).to(device).to(memory_format=torch.channels_last)
        elif name == "torchscript":
            path = export_pose(cfg, fmt="torchscript", output=folder / "pose.pt", calib=calib, model=model).path
            network = TorchScriptNetwork(path, device)
        elif name == "onnxruntime":
            path = export_pose(cfg, output=folder / "pose.onnx", dynamic_batch=True, calib=calib, model=model).path
            network = OnnxRuntimeNetwork(path, device, torch.get_num_threads())
        elif name == "int8":
            options = Int8Options(calib_size=32, held_out=8, bench_rounds=0, min_agreement=0.0)
            path = export_pose(
                cfg, output=folder / "pose-int8.onnx", dynamic_batch=True, int8=options, calib=calib, model=model
            ).path
            network, device_used = OnnxRuntimeNetwork(path, cpu, torch.get_num_threads()), cpu
            built.append(Backend(name, network, device_used))
            continue
        else:
            from alphapose_kit.deploy.prune import prune_network

            height, width = cfg.DATA_PRESET.IMAGE_SIZE
            pruned = prune_network(copy.deepcopy(model), torch.randn(1, 3, height, width), prune_ratio)
            network = pruned.to(device).to(memory_format=torch.channels_last)
        built.append(Backend(name, network, device))
    return built


def end_to_end(
    backends: Sequence[Backend], cfg: Any, source: str | Path, frames: int, detector: Any, batch: int
) -> list[dict[str, Any]]:
    """Frames per second of the whole pipeline (read, detect, crop, pose, decode, pose NMS) with each backend."""
    from itertools import islice

    from alphapose_kit.data.sources import open_source
    from alphapose_kit.engine.predictor import PosePipeline

    rows: list[dict[str, Any]] = []
    for backend in backends:
        pipeline = PosePipeline(
            cfg, pose_model=backend.network, detector=detector, device=str(backend.device), batch=batch
        )
        list(islice(pipeline.run(open_source(source)), 2))  # warm-up
        start = time.perf_counter()
        count = sum(1 for _ in islice(pipeline.run(open_source(source)), frames))
        seconds = time.perf_counter() - start
        rows.append({"backend": backend.name, "frames": count, "seconds": seconds, "fps": count / seconds})
    base = next((r["fps"] for r in rows if r["backend"] == BASELINE), None)
    for row in rows:
        row[f"x_{BASELINE}"] = row["fps"] / base if base else None
    return rows


def run_bench(
    config: Any,
    checkpoint: Any = None,
    *,
    backends: Sequence[str] = ("torch", "onnxruntime", "int8"),
    batches: Sequence[int] = (1, 8),
    device: str | torch.device = "cpu",
    rounds: int = 10,
    warmup: int = 2,
    output: str | Path | None = None,
    calib: str | Path | None = None,
    prune_ratio: float = DEFAULT_PRUNE_RATIO,
    source: str | Path | None = None,
    frames: int = 50,
    detector: Any = None,
    opts: Sequence[str] = (),
    exist_ok: bool = False,
) -> BenchResult:
    """Time every backend at every batch (alternating), optionally end to end on ``source`` with ``detector``;
    writes ``bench.json`` and ``bench.png`` (an existing ``output`` is refused unless ``exist_ok``)."""
    import tempfile

    import onnxruntime

    from alphapose_kit.config import load_config
    from alphapose_kit.deploy.files import check_free, output_path, staged, write_json
    from alphapose_kit.models.loader import load_pose_model, model_name
    from alphapose_kit.utils.device import resolve_device

    check_backends(list(backends))
    check_batches(list(batches))
    check_at_least("--rounds", rounds, 1)
    target = resolve_device(device)
    json_path = output_path(output, "bench.json", task="bench", exist_ok=exist_ok)
    png_path = json_path.with_suffix(".png")
    check_free([png_path], exist_ok)
    cfg = load_config(config, opts)
    model = load_pose_model(cfg, checkpoint, "cpu")
    with tempfile.TemporaryDirectory(prefix="akit-bench-") as folder:
        built = _build_backends(list(dict.fromkeys(backends)), cfg, model, target, Path(folder), calib, prune_ratio)
        timings = measure(built, batches, (3, *cfg.DATA_PRESET.IMAGE_SIZE), rounds=rounds, warmup=warmup)
        e2e = end_to_end(built, cfg, source, frames, detector, max(batches)) if source is not None else []
    rows = with_ratios(timings)
    machine = torch.cuda.get_device_name(target) if target.type == "cuda" else machine_name()
    info = {
        "model": model_name(cfg),
        "machine": machine,
        "device": str(target),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "input_size": list(cfg.DATA_PRESET.IMAGE_SIZE),
        "rounds": rounds,
        "warmup": warmup,
        "note": "int8 runs on ONNX Runtime's CPU provider" if "int8" in backends else "",
    }
    write_json(json_path, {**info, "rows": rows, "end_to_end": e2e})
    with staged(png_path) as tmp:
        plot(rows, tmp, f"{info['model']} on {machine}, {info['threads']} threads")
    return BenchResult(rows, e2e, info, json_path, png_path)
