"""The ``akit`` command line: a thin Typer layer over the library, one module per command."""

from alphapose_kit.cli.app import app, entry, main

__all__ = ["app", "entry", "main"]
