"""The options every ``akit analyze`` command takes, declared once (each field carries its CLI flag and help)."""

from __future__ import annotations

from dataclasses import dataclass

from alphapose_kit.engine.options import option, outdir_option


@dataclass(kw_only=True)
class AnalyzeOptions:
    """Where the analysis goes, its time base, whom it follows, how the joints are named and which count."""

    outdir: str | None = outdir_option("analyze")
    fps: float | None = option(None, "--fps", help="frame rate (default: the run.json beside the results)")
    person: int | None = option(None, "--person", help="one track id (default: each track)")
    keypoints: str | None = option(
        None, "--keypoints", help="keypoint set name or JSON (default: run.json's, else by joint count)"
    )
    min_score: float = option(0.4, "--min-score", help="joints scored below this give empty cells")


ANALYZE_FLAGS = ("outdir", "fps", "person", "keypoints", "min_score")
