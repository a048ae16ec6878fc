"""Side-by-side latency of pose networks: every backend and batch measured in one run, alternating, warm-up first.

Each round times one call of every (backend, batch) pair in a rotating order, so a load spike or a thermal drift
hits all of them alike; percentiles come from all rounds. Throughput is items / total time of a pair's calls, and
ratios are taken against the ``torch`` backend measured in the same run.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

BASELINE = "torch"


def machine_name() -> str:
    """The CPU model (from /proc/cpuinfo on Linux), the CUDA device when one is used elsewhere."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


@dataclass
class Timing:
    """All measured calls of one backend at one batch size."""

    backend: str
    batch: int
    latencies_ms: list[float] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.latencies_ms, q))

    @property
    def throughput(self) -> float:
        """Items (crops) per second over all timed calls."""
        return self.batch * len(self.latencies_ms) / (sum(self.latencies_ms) / 1000)

    def as_dict(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "batch": self.batch,
            "calls": len(self.latencies_ms),
            "p50_ms": self.percentile(50),
            "p90_ms": self.percentile(90),
            "p99_ms": self.percentile(99),
            "throughput": self.throughput,
        }


@dataclass
class Backend:
    """A network to time and the device its inputs live on."""

    name: str
    network: Any  # a torch module or an exported model wrapped as one (deploy.runtime)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))


def _call(backend: Backend, batch: torch.Tensor) -> float:
    sync = backend.device.type == "cuda"
    if sync:
        torch.cuda.synchronize(backend.device)
    start = time.perf_counter()
    with torch.inference_mode():
        backend.network(batch)
    if sync:
        torch.cuda.synchronize(backend.device)
    return (time.perf_counter() - start) * 1000


def measure(
    backends: Sequence[Backend],
    batches: Sequence[int],
    input_shape: Sequence[int],
    rounds: int = 10,
    warmup: int = 2,
    seed: int = 0,
) -> list[Timing]:
    """Latency of every backend at every batch size: ``warmup`` untimed calls each, then ``rounds`` alternating."""
    if rounds < 1 or warmup < 0:
        raise ValueError(f"rounds must be >= 1 and warmup >= 0, got {rounds} and {warmup}")
    generator = torch.Generator().manual_seed(seed)
    inputs = {b: torch.randn(b, *input_shape, generator=generator) for b in batches}
    placed = {
        (backend.name, b): inputs[b].to(backend.device).contiguous(memory_format=torch.channels_last)
        for backend in backends
        for b in batches
    }
    pairs = [(backend, b) for b in batches for backend in backends]
    for backend, b in pairs:
        for _ in range(warmup):
            _call(backend, placed[backend.name, b])
    timings = {(backend.name, b): Timing(backend.name, b) for backend, b in pairs}
    for r in range(rounds):
        shift = r % len(pairs)
        for backend, b in pairs[shift:] + pairs[:shift]:
            timings[backend.name, b].latencies_ms.append(_call(backend, placed[backend.name, b]))
    return list(timings.values())


def with_ratios(timings: Sequence[Timing], baseline: str = BASELINE) -> list[dict[str, Any]]:
    """Rows of :meth:`Timing.as_dict` plus ``x_<baseline>``: throughput relative to the baseline at that batch."""
    base = {t.batch: t.throughput for t in timings if t.backend == baseline}
    rows = []
    for t in timings:
        row = t.as_dict()
        row[f"x_{baseline}"] = t.throughput / base[t.batch] if t.batch in base else None
        rows.append(row)
    return rows


def table(rows: Sequence[dict[str, Any]], baseline: str = BASELINE) -> str:
    """A plain-text table of :func:`with_ratios` rows."""
    ratio = f"x_{baseline}"
    header = f"{'backend':<14}{'batch':>6}{'p50 ms':>11}{'p90 ms':>11}{'p99 ms':>11}{'items/s':>11}{ratio:>10}"
    lines = [header, "-" * len(header)]
    for row in sorted(rows, key=lambda r: (r["batch"], r["backend"] != baseline, r["backend"])):
        x = "" if row[ratio] is None else f"{row[ratio]:.2f}x"
        lines.append(
            f"{row['backend']:<14}{row['batch']:>6}{row['p50_ms']:>11.1f}{row['p90_ms']:>11.1f}{row['p99_ms']:>11.1f}"
            f"{row['throughput']:>11.1f}{x:>10}"
        )
    return "\n".join(lines)


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


BACKENDS = ("torch", "torchscript", "onnxruntime", "int8", "pruned")


@dataclass
class BenchResult:
    """Rows of the network benchmark, end-to-end figures, and where they were saved."""

    rows: list[dict[str, Any]]
    end_to_end: list[dict[str, Any]]
    info: dict[str, Any]
    json_path: Path | None = None
    png_path: Path | None = None


def parse_list(text: str, kind: type = str) -> list[Any]:
    """``"torch,int8"`` -> ['torch', 'int8']; ``"1,8"`` with ``kind=int`` -> [1, 8] (one line on a bad item)."""
    from alphapose_kit.errors import AkitError

    items = [item.strip() for item in text.split(",") if item.strip()]
    try:
        values = [kind(item) for item in items]
    except ValueError:
        raise AkitError(f"cannot read {text!r} as a comma-separated list of {kind.__name__}") from None
    if not values:
        raise AkitError("an empty list was given")
    return values


def _build_backends(
    names: Sequence[str], cfg: Any, model: Any, device: torch.device, folder: Path, calib: Any, prune_ratio: float
) -> list[Backend]:
    """The networks to time, exported into ``folder`` (each export checked against PyTorch as usual)."""
    import copy

    from alphapose_kit.deploy.export import export_pose
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
    device: str = "cpu",
    rounds: int = 10,
    warmup: int = 2,
    output: str | Path | None = None,
    calib: str | Path | None = None,
    prune_ratio: float = 0.3,
    source: str | Path | None = None,
    frames: int = 50,
    detector: Any = None,
    opts: Sequence[str] = (),
) -> BenchResult:
    """``akit bench``: time every backend at every batch (alternating), optionally end to end on ``source``."""
    import tempfile

    import onnxruntime

    from alphapose_kit.config import load_config
    from alphapose_kit.deploy.files import output_path, staged, write_json
    from alphapose_kit.errors import AkitError
    from alphapose_kit.models.loader import load_pose_model, model_name
    from alphapose_kit.utils.device import resolve_device

    unknown = [name for name in backends if name not in BACKENDS]
    if unknown:
        raise AkitError(f"unknown backend {unknown[0]!r}; choose from {', '.join(BACKENDS)}")
    if any(b < 1 for b in batches):
        raise AkitError(f"batch sizes must be at least 1, got {list(batches)}")
    if rounds < 1:
        raise AkitError(f"--rounds must be at least 1, got {rounds}")
    target = resolve_device(device)
    json_path = output_path(output, "bench.json", task="bench")
    png_path = json_path.with_suffix(".png")
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
