"""``akit export``: pose networks and detectors to ONNX / TorchScript (fp32, fp16, INT8) and channel pruning.

The flags are made from :class:`~alphapose_kit.deploy.options.ExportOptions`'s fields; the work is
:func:`alphapose_kit.deploy.export`.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.deploy.options import ExportOptions


def export(ctx: typer.Context, **flags: Any) -> None:
    """Export a pose network or detector, checked against PyTorch on real people; INT8; pruning.

    Config overrides go last: akit export --cfg C --checkpoint W --opts DATA_PRESET.IMAGE_SIZE [128,96]
    """
    from alphapose_kit.deploy.commands import export as run_export

    for line in run_export(ExportOptions(opts=trailing_opts(list(ctx.args), "export"), **flags)).lines():
        typer.echo(line)


apply_signature(export, ExportOptions)
