"""Typer signatures made from an options dataclass whose fields carry their flags and help
(:func:`alphapose_kit.engine.options.option`), so a command's CLI and its library options never disagree."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer

from alphapose_kit.errors import AkitError


def options_signature(
    options_cls: type, skip: Sequence[str] = ("opts",), positional: Sequence[str] = ()
) -> inspect.Signature:
    """``(ctx, ARG ..., --flag ...)``: Typer arguments for the ``positional`` fields, then one keyword-only Typer
    option per other field of ``options_cls`` except ``skip``."""
    hints = typing.get_type_hints(options_cls)
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for name in positional:
        argument = typer.Argument(help=fields[name].metadata["help"])
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Annotated[hints[name], argument]
            )
        )
    names = [name for name in fields if name not in skip and name not in positional]
    return inspect.Signature(params + option_parameters(options_cls, names))


def option_parameters(options_cls: type, names: Sequence[str]) -> list[inspect.Parameter]:
    """One keyword-only Typer option per field ``names`` of ``options_cls``, its flags and help as declared there."""
    hints = typing.get_type_hints(options_cls)
    fields = {f.name: f for f in dataclasses.fields(options_cls)}
    params = []
    for name in names:
        f = fields[name]
        option = typer.Option(*f.metadata["flags"], help=f.metadata["help"], show_default=f.default not in (None, ""))
        params.append(
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=Annotated[hints[name], option]
            )
        )
    return params


def extend_signature(command: Callable[..., Any], options_cls: type, names: Sequence[str]) -> None:
    """Add to ``command(own parameters..., **flags)`` the options of the fields ``names`` of ``options_cls``, so a
    command with flags of its own also takes these exactly as the command they come from declares them."""
    own = [p for p in inspect.signature(command).parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    hints = typing.get_type_hints(command, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in own]
    signature = inspect.Signature(own + option_parameters(options_cls, names))
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}


def apply_signature(
    command: Callable[..., Any], options_cls: type, skip: Sequence[str] = ("opts",), positional: Sequence[str] = ()
) -> None:
    """Give ``command(ctx, [ARG ...,] **flags)`` the Typer signature of ``options_cls``."""
    signature = options_signature(options_cls, skip, positional)
    command.__signature__ = signature  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in signature.parameters.values()}


def trailing_opts(extra: list[str], command: str) -> list[str]:
    """The ``--opts KEY VALUE ...`` pairs left at the end of a command line; anything else is an error."""
    if not extra:
        return []
    if extra[0] != "--opts":
        kind = "option" if extra[0].startswith("-") else "argument"
        raise AkitError(f"unexpected {kind} {extra[0]!r}; see akit {command} --help")
    return extra[1:]
