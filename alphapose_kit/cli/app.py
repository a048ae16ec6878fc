"""``akit``: a thin Typer layer over the library. Every user error is one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import setup_cli_logging

app = typer.Typer(
    name="akit",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from alphapose_kit import __version__

        typer.echo(f"akit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version")
    ] = False,
) -> None:
    """AlphaPose's multi-person pose pipeline: infer, eval, train, export, bench, analyze, models, calibrate,
    triangulate, lift, serve."""


def _echo_err(message: str) -> None:
    typer.echo(f"akit: error: {message}", err=True)


def _register_commands() -> None:
    """Attach each command module's commands (imported here so each module stays Typer-only)."""
    from alphapose_kit.cli import analyze, bench, export, infer, models

    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(infer.infer)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(export.export)
    app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(bench.bench)
    app.add_typer(models.models_app, name="models")
    app.add_typer(analyze.analyze_app, name="analyze")
    from alphapose_kit.cli.eval import eval_command

    app.command("eval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(eval_command)
    from alphapose_kit.cli.train import train_command

    app.command("train", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(train_command)
    from alphapose_kit.cli.calibrate import calibrate_command

    app.command("calibrate")(calibrate_command)
    from alphapose_kit.cli.triangulate import triangulate_command

    app.command("triangulate")(triangulate_command)
    from alphapose_kit.cli.lift import lift_command

    app.command("lift", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(lift_command)
    from alphapose_kit.cli.serve import serve_command

    app.command("serve")(serve_command)


_register_commands()


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the app, turning AkitError / Ctrl-C / usage errors into one line and an exit code."""
    setup_cli_logging()
    try:
        code = app(args=argv, standalone_mode=False)
    except AkitError as exc:
        _echo_err(str(exc))
        return 1
    except KeyboardInterrupt:
        _echo_err("interrupted")
        return 130
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        _echo_err("aborted")
        return 130
    except typer.TyperException as exc:  # usage errors: missing argument, bad number, unknown command
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _echo_err((message.strip().splitlines() or [type(exc).__name__])[0])
        return getattr(exc, "exit_code", 2)
    if code == 130:  # Typer turns Ctrl-C into this exit code
        _echo_err("interrupted")
    return code if isinstance(code, int) else 0


def entry() -> None:
    """``akit`` console script."""
    sys.exit(main())
