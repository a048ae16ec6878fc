"""``akit lift``'s options, declared once (each field carries its CLI flag and help)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from alphapose_kit.engine.options import device_option, option, outdir_option
from alphapose_kit.errors import AkitError


@dataclass(kw_only=True)
class LiftOptions:
    """Which 2D results to lift, with which lifter, and where the 3D goes."""

    results: str = option("", help="akit infer --track run folder or alphapose-results.json")
    checkpoint: str = option(
        "videopose3d_h36m_detectron_coco", "--checkpoint", "-w", help="VideoPose3D checkpoint file or zoo name"
    )
    flip: bool = option(True, "--flip/--no-flip", help="test-time flip augmentation, as VideoPose3D evaluates")
    width: int | None = option(None, "--width", help="frame width in pixels (default: run.json's)")
    height: int | None = option(None, "--height", help="frame height in pixels (default: run.json's)")
    fps: float | None = option(None, "--fps", help="frame rate (default: run.json's)")
    min_frames: int = option(1, "--min-frames", help="leave out tracks shorter than this")
    device: str = device_option()
    outdir: str | None = outdir_option("lift")
    exist_ok: bool = option(False, "--exist-ok", help="replace poses3d.json in an --outdir that has one")

    def validate(self) -> None:
        """Reject bad values in one line, before any weights are read."""
        for flag, value in (("--width", self.width), ("--height", self.height)):
            if value is not None and value < 1:
                raise AkitError(f"{flag} must be a positive number of pixels, got {value}")
        if self.fps is not None and not (math.isfinite(self.fps) and self.fps > 0):
            raise AkitError(f"--fps must be a positive number, got {self.fps}")
        if self.min_frames < 1:
            raise AkitError(f"--min-frames must be at least 1, got {self.min_frames}")
