"""``akit bench``: latency percentiles and throughput of a pose network per backend and batch, side by side.

Backends are measured in one run, alternating, after a warm-up; ratios are against torch fp32 from the same run.
Writes runs/bench/expN/bench.json and bench.png; ``--source`` adds the pipeline's end-to-end frames/s. The flags
are made from :class:`~alphapose_kit.deploy.options.BenchOptions`'s fields; the work is
:func:`alphapose_kit.deploy.bench`.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.deploy.options import BenchOptions


def bench(ctx: typer.Context, **flags: Any) -> None:
    """Benchmark a pose network: p50/p90/p99 latency and throughput per backend and batch, ratios to torch."""
    from alphapose_kit.deploy.commands import bench as run_bench

    for line in run_bench(BenchOptions(opts=trailing_opts(list(ctx.args), "bench"), **flags)).lines():
        typer.echo(line)


apply_signature(bench, BenchOptions)
