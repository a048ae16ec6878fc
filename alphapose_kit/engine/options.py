"""Run options, declared once: each field carries its CLI flags and help, so ``akit infer``'s flags are made from
these dataclasses and the library takes the same objects. Adding a flag is one field here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from alphapose_kit.config.sizes import check_multiple_of_32
from alphapose_kit.deploy.formats import RUNTIMES
from alphapose_kit.errors import AkitError
from alphapose_kit.ops import POSE_NMS

DEFAULT_DETECTOR = "yolov3-spp"  # AlphaPose's
BACKENDS = RUNTIMES


def option(default: Any, *flags: str, help: str = "") -> Any:
    """A dataclass field that is also a CLI option: its flags (first one long) and help text."""
    return field(default=default, metadata={"flags": flags, "help": help})


# The options every command shares, declared once here; each command's options dataclass uses these.


def exist_ok_option() -> Any:
    """``--exist-ok``, one declaration for every command that writes a run folder (the rule: ``io.run_dir``)."""
    return option(False, "--exist-ok", help="replace what an earlier run of this command wrote in --outdir")


def config_option() -> Any:
    """``--cfg/--config/-c``: an akit or AlphaPose YAML (a path or a shipped name)."""
    return option(None, "--cfg", "--config", "-c", help="akit or AlphaPose YAML (a path or a name like coco/...)")


def checkpoint_option(default: str | None = None, help: str = "pose weights file or zoo name") -> Any:
    """``--checkpoint/-w``: a weights file or a zoo name."""
    return option(default, "--checkpoint", "-w", help=help)


def device_option(help: str = "auto, cpu, cuda or cuda:N") -> Any:
    """``--device``: resolved once (utils.device) and passed down as a torch.device."""
    return option("auto", "--device", help=help)


def outdir_option(task: str) -> Any:
    """``--outdir/-o``: the run folder, default the next free runs/<task>/expN (``io.run_dir``)."""
    return option(None, "--outdir", "-o", help=f"run folder (default runs/{task}/expN)")


def quiet_option() -> Any:
    """``--quiet/-q``: no progress bars or summaries."""
    return option(False, "--quiet", "-q", help="no progress bar or summary")


@dataclass(kw_only=True)
class PipelineOptions:
    """How the top-down pipeline runs: person detector, batching, device, flip test, pose NMS."""

    backend: str = option("torch", "--backend", help="torch, onnxruntime or torchscript (with --pose-model)")
    pose_model: str | None = option(None, "--pose-model", help="exported pose model (.onnx / .pt) from akit export")
    detector_model: str | None = option(None, "--detector-model", help="detector from akit export --detector")
    detector: str | None = option(
        None,
        "--detector",
        "-d",
        help="yolov3-spp (default), yolov5n/s/m/l/x, yolox-nano/tiny/s/m/l/x, yolov8n/s/m/l/x, yolo11n/s/m/l/x",
    )
    detector_weights: str | None = option(None, "--detector-weights", help="detector weights file or zoo name")
    detfile: str | None = option(None, "--detfile", help="precomputed boxes (AlphaPose format) instead of a detector")
    device: str = device_option()
    flip: bool = option(False, "--flip", help="flip test (average with the mirrored crop)")
    batch: int = option(64, "--batch", "-b", help="pose crops per forward")
    det_batch: int = option(4, "--det-batch", help="frames per detector forward")
    half: bool = option(False, "--half", help="float16 on CUDA")
    conf: float | None = option(None, "--conf", help="detector confidence threshold")
    nms: float | None = option(None, "--nms", help="detector NMS IoU threshold")
    det_size: int | None = option(None, "--det-size", help="detector letterbox side (608 / 640)")
    pose_nms: str = option("pnms", "--pose-nms", help="pnms, oks or none")
    min_box_area: float = option(0.0, "--min-box-area", help="drop poses whose keypoint extent is smaller")
    track: bool = option(False, "--track", help="stable person ids across frames: idx = track id")
    track_buffer: int = option(30, "--track-buffer", help="frames a lost track is kept through an occlusion")
    smooth: bool = option(False, "--smooth", help="One Euro smoothing of each track's keypoints (needs --track)")

    def validate(self) -> None:
        """Reject bad settings in one line, before anything slow (model loading, downloads) happens."""
        if self.pose_nms not in POSE_NMS:
            raise AkitError(f"unknown pose NMS {self.pose_nms!r}; choose one of {', '.join(POSE_NMS)}")
        for flag, value in (("--batch", self.batch), ("--det-batch", self.det_batch)):
            if value < 1:
                raise AkitError(f"{flag} must be at least 1, got {value}")
        for flag, threshold, what in (("--conf", self.conf, "a score"), ("--nms", self.nms, "an IoU")):
            if threshold is not None and not 0 <= threshold <= 1:
                raise AkitError(f"{flag} is {what} in [0, 1], got {threshold}")
        if self.min_box_area < 0:
            raise AkitError(f"--min-box-area must not be negative, got {self.min_box_area}")
        if self.det_size is not None:
            check_multiple_of_32(self.det_size, "--det-size")
        if self.detfile is not None and (
            self.conf is not None or self.nms is not None or self.detector_weights or self.detector is not None
        ):
            raise AkitError(
                "--detector, --conf, --nms and --detector-weights do not apply with --detfile (its boxes are used)"
            )
        if self.backend not in BACKENDS:
            raise AkitError(f"unknown --backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend != "torch" and self.pose_model is None:
            raise AkitError(f"--backend {self.backend} runs an exported model: pass --pose-model FILE (akit export)")
        if self.detector_model is not None and (self.detfile is not None or self.detector_weights):
            raise AkitError("--detector-model is the detector: drop --detfile / --detector-weights")
        from alphapose_kit.track import check_tracking_options

        check_tracking_options(self.track, self.track_buffer, self.smooth)


@dataclass(kw_only=True)
class InferOptions(PipelineOptions):
    """Everything ``akit infer`` takes: the source, the model, the pipeline options and the outputs."""

    source: str = option("", help="video, image, directory, glob, webcam index or stream URL")
    config: str | None = config_option()
    checkpoint: str | None = checkpoint_option()
    outdir: str | None = outdir_option("infer")
    exist_ok: bool = exist_ok_option()
    fmt: str = option("alphapose", "--format", "-f", help="alphapose, coco or openpose")
    save_video: bool = option(False, "--save-video", help="render a video with the poses")
    save_images: bool = option(False, "--save-img", help="render every frame as an image")
    skip_bad: bool = option(False, "--skip-bad", help="warn about unreadable images and go on")
    quiet: bool = quiet_option()
    threads: int | None = option(None, "--threads", help="CPU threads for torch (default: all cores)")
    ray: str | None = option(
        None, "--ray", help="several sources as Ray tasks: auto (a local runtime) or a cluster's ADDRESS"
    )
    int8: bool = option(False, "--int8", help="run the pose network as ONNX Runtime INT8 (exported once, cached)")
    calib: str | None = option(None, "--calib", help="--int8 calibration images/video/COCO file (default: SOURCE)")
    push: str | None = option(None, "--push", help="stream each frame's results to an akit serve URL")
    token: str | None = option(None, "--token", help="the akit serve bearer token for --push")
    session: int | None = option(None, "--session", help="the akit serve session --push adds to (default: a new one)")
    opts: list[str] = field(default_factory=list)  # config overrides: --opts KEY VALUE ... (last on the line)

    def validate(self) -> None:
        """Pipeline checks plus the output and thread settings; one line per problem."""
        from alphapose_kit.io.writers import check_format

        super().validate()
        check_format(self.fmt)
        if self.pose_model is not None and self.checkpoint is not None:
            raise AkitError("--pose-model holds its weights: drop --checkpoint")
        if self.threads is not None and self.threads < 1:
            raise AkitError(f"--threads must be at least 1, got {self.threads}")
        if self.int8 and (self.half or self.pose_model is not None or self.backend != "torch"):
            raise AkitError("--int8 exports the torch model itself: drop --half, --pose-model and --backend")
        if self.calib is not None and not self.int8:
            raise AkitError("--calib calibrates --int8; add --int8 or drop --calib")
        if self.push is None and (self.token is not None or self.session is not None):
            raise AkitError("--token and --session go with --push URL")
        if self.push is not None and self.fmt != "alphapose":
            raise AkitError("--push sends AlphaPose-format records: drop --format")

    def pipeline(self) -> PipelineOptions:
        """The pipeline part of these options."""
        names = {f.name for f in dataclasses.fields(PipelineOptions)}
        return PipelineOptions(**{name: getattr(self, name) for name in names})
