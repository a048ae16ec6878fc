"""``python -m alphapose_kit`` runs the ``akit`` CLI."""

from .cli import entry

entry()
