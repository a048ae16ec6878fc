"""``python -m alphapose_kit`` runs the ``akit`` CLI."""

from alphapose_kit.cli.app import entry

entry()
