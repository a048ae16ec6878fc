"""``akit eval``'s options, declared once: each field carries its CLI flags and help (the CLI is made from them)."""

from __future__ import annotations

from dataclasses import dataclass, field

from alphapose_kit.engine.options import (
    checkpoint_option,
    config_option,
    device_option,
    exist_ok_option,
    option,
    outdir_option,
    quiet_option,
)
from alphapose_kit.errors import AkitError
from alphapose_kit.ops import POSE_NMS


@dataclass(kw_only=True)
class EvalOptions:
    """What to evaluate (a model on COCO-format annotations, or an existing results file) and where to write."""

    coco: str = option("", "--coco", help="COCO-format keypoint annotation file (required)")
    images: str | None = option(None, "--images", help="folder of the annotation's images (model evaluation)")
    results: str | None = option(None, "--results", help="evaluate this COCO or AlphaPose results file instead")
    posetrack: str | None = option(
        None, "--posetrack", help="PoseTrack18 annotation folder: tracking metrics (MOTA, IDF1) of --results DIR"
    )
    config: str | None = config_option()
    checkpoint: str | None = checkpoint_option()
    boxes: str = option("gt", "--boxes", help="gt, a COCO detection file, a detector name, or gt,DETS.json")
    detector_weights: str | None = option(None, "--detector-weights", help="weights of a --boxes detector")
    flip: bool = option(False, "--flip", help="flip test (average with the mirrored crop)")
    pose_nms: str = option("none", "--pose-nms", help="none, pnms or oks (detected boxes only, as AlphaPose)")
    batch: int = option(64, "--batch", "-b", help="pose crops per forward")
    workers: int | None = option(None, "--workers", help="DataLoader processes that read and crop (default 4)")
    device: str = device_option()
    outdir: str | None = outdir_option("eval")
    exist_ok: bool = exist_ok_option()
    plot: bool = option(False, "--plot", help="also write eval.png (per-joint accuracy, AP per OKS threshold)")
    quiet: bool = quiet_option()
    opts: list[str] = field(default_factory=list)  # config overrides: --opts KEY VALUE ... (last on the line)

    def validate(self) -> None:
        """Reject bad combinations in one line, before anything is loaded."""
        if self.posetrack is not None:
            if self.coco or self.images is not None or self.checkpoint is not None or self.results is None:
                raise AkitError(
                    "--posetrack ANN_DIR takes --results RESULTS_DIR (tracked results), not --coco/--images"
                )
            return
        if not self.coco:
            raise AkitError("akit eval needs --coco ANN.json (or --posetrack ANN_DIR for tracking metrics)")
        if self.results is not None:
            if self.checkpoint is not None:
                raise AkitError("--results evaluates an existing file; it takes no --checkpoint (drop one of them)")
            if self.images is not None or self.flip or self.boxes != "gt" or self.pose_nms != "none":
                raise AkitError("--results takes only --coco, --outdir and --cfg (the file's poses are final)")
        elif self.images is None:
            raise AkitError("evaluating a model needs --images DIR (or --results FILE to score existing results)")
        if self.pose_nms not in POSE_NMS:
            raise AkitError(f"unknown pose NMS {self.pose_nms!r}; choose one of {', '.join(POSE_NMS)}")
        if self.batch < 1:
            raise AkitError(f"--batch must be at least 1, got {self.batch}")
        if self.workers is not None and self.workers < 0:
            raise AkitError(f"--workers must not be negative, got {self.workers}")
        if self.results is None:
            self.box_sources()

    def box_sources(self) -> tuple[bool, str | None]:
        """``--boxes`` as (ground-truth pass wanted, detection file or detector name or None)."""
        tokens = [t.strip() for t in self.boxes.split(",")]
        gt = tokens.count("gt")
        others = [t for t in tokens if t != "gt"]
        if not all(tokens) or gt > 1 or len(others) > 1:
            raise AkitError(
                f"--boxes takes gt, a detection file, a detector name, or gt plus one of them; got {self.boxes!r}"
            )
        return gt == 1, (others[0] if others else None)
