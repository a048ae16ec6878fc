"""Latency primitives: timed calls of networks (CUDA-synchronised), alternating rounds over backends and batches,
percentiles, throughput and ratios against a baseline, as rows and as a plain-text table.

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
