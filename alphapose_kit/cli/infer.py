"""``akit infer``: detect people and their keypoints in images, videos, cameras and streams.

The flags are made from :class:`~alphapose_kit.engine.options.InferOptions`'s fields (flag names and help live
there), so the CLI and the library never disagree on an option.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.engine.options import InferOptions


def infer(ctx: typer.Context, source: str, **flags: Any) -> None:
    """Detect people and their keypoints; write JSON (streamed, crash-safe) and optionally rendered output.

    Config overrides go last: akit infer video.mp4 --opts MODEL.NUM_LAYERS 101
    """
    from alphapose_kit.engine.infer import run_inference

    run_inference(InferOptions(source=source, opts=trailing_opts(list(ctx.args), "infer"), **flags))


apply_signature(infer, InferOptions, positional=("source",))
