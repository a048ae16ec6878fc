"""``akit infer``: detect people and their keypoints in images, videos, cameras and streams.

The flags are made from :class:`~alphapose_kit.engine.options.InferOptions`'s fields (flag names and help live
there), so the CLI and the library never disagree on an option.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Annotated, Any

import typer

from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError

_SPECIAL = ("source", "opts")  # the positional argument and the trailing --opts KEY VALUE pairs


def _split_opts(extra: list[str]) -> list[str]:
    if not extra:
        return []
    if extra[0] != "--opts":
        kind = "option" if extra[0].startswith("-") else "argument"
        raise AkitError(f"unexpected {kind} {extra[0]!r}; see akit infer --help")
    return extra[1:]


def infer(ctx: typer.Context, source: str, **flags: Any) -> None:
    """Detect people and their keypoints; write JSON (streamed, crash-safe) and optionally rendered output.

    Config overrides go last: akit infer video.mp4 --opts MODEL.NUM_LAYERS 101
    """
    from alphapose_kit.engine.infer import run_inference

    run_inference(InferOptions(source=source, opts=_split_opts(list(ctx.args)), **flags))


def _signature() -> inspect.Signature:
    """``infer``'s parameters, one Typer option per InferOptions field."""
    hints = typing.get_type_hints(InferOptions)
    fields = {f.name: f for f in dataclasses.fields(InferOptions)}
    params = [
        inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context),
        inspect.Parameter(
            "source",
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            annotation=Annotated[str, typer.Argument(help=fields["source"].metadata["help"])],
        ),
    ]
    for f in fields.values():
        if f.name in _SPECIAL:
            continue
        option = typer.Option(*f.metadata["flags"], help=f.metadata["help"], show_default=f.default is not None)
        params.append(
            inspect.Parameter(
                f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=Annotated[hints[f.name], option]
            )
        )
    return inspect.Signature(params)


infer.__signature__ = _signature()  # type: ignore[attr-defined]
infer.__annotations__ = {p.name: p.annotation for p in infer.__signature__.parameters.values()}  # type: ignore[attr-defined]
