"""``akit infer``: detect people and their keypoints in images, videos, cameras and streams.

The flags are made from :class:`~alphapose_kit.engine.options.InferOptions`'s fields (flag names and help live
there), so the CLI and the library never disagree on an option.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError


def infer(ctx: typer.Context, source: str, **flags: Any) -> None:
    """Detect people and their keypoints; write JSON (streamed, crash-safe) and optionally rendered output.

    Several sources (videos, folders, globs, a .txt list) run with --ray, each into OUTDIR/<name>/.
    Config overrides go last: akit infer video.mp4 --opts MODEL.NUM_LAYERS 101
    """
    extra = list(ctx.args)
    end = extra.index("--opts") if "--opts" in extra else len(extra)
    more, opts = extra[:end], trailing_opts(extra[end:], "infer")
    options = InferOptions(source=source, opts=opts, **flags)
    if options.ray is None:
        if more:
            if more[0].startswith("-"):
                trailing_opts(more, "infer")  # an unknown option: one line naming it
            raise AkitError(f"several sources ({source}, {more[0]}, ...) run with --ray auto (or a cluster address)")
        from alphapose_kit.engine.infer import run_inference

        run_inference(options)
        return
    from alphapose_kit.batch import run_batch

    manifest = run_batch([source, *more], options, outdir=options.outdir, ray=options.ray)
    if manifest.failed():
        raise AkitError(manifest.line())
    typer.echo(f"akit: {manifest.line()}", err=True)


apply_signature(infer, InferOptions, positional=("source",))
