"""Where the tests find things: the repository, and the team's real data beside it in ../shared (never copied in).

The one place that computes these paths; ``conftest.py`` stops the whole suite with one clear line when
``../shared`` is missing, so no test silently skips for it.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DATA = SHARED / "data"
COCO = DATA / "coco"
REFERENCE = SHARED / "reference"
GOLDEN = Path(__file__).resolve().parent / "golden"
SCRIPTS = REPO / "scripts"
