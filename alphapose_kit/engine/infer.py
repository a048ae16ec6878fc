"""``akit infer`` as a library call: resolve config and weights, run the pipeline, write outputs, report speed.

Interrupting (Ctrl-C) still writes the final JSON from every finished frame; a hard kill leaves the JSON Lines
stream, one finished frame per line.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from alphapose_kit.data.sources import FrameSource, open_source
from alphapose_kit.detectors import DetFileDetector, detector_weights
from alphapose_kit.engine.options import DEFAULT_DETECTOR, InferOptions
from alphapose_kit.engine.predictor import DEFAULT_FPS, STAGES, PosePipeline
from alphapose_kit.errors import AkitError
from alphapose_kit.hub.zoo import ensure_weights
from alphapose_kit.io.run_info import write_run_info
from alphapose_kit.io.writers import JSON_NAME, JSONL_NAME, ResultWriter, ensure_writable_dir, next_run_dir
from alphapose_kit.models.choice import DEFAULT_CONFIG as DEFAULT_CONFIG  # re-exported: callers import it here
from alphapose_kit.models.choice import resolve_model_choice
from alphapose_kit.utils.logging import get_logger
from alphapose_kit.utils.progress import progress
from alphapose_kit.utils.signals import terminate_as_interrupt

log = get_logger("infer")
STAGE_UNITS = {
    "read": "frames",
    "detect": "frames",
    "crop": "people",
    "pose": "people",
    "decode": "people",
    "nms": "frames",
    "track": "frames",
}


@dataclass
class InferSummary:
    """What a run produced: counts, speed per stage, and where the outputs are."""

    frames: int
    people: int
    seconds: float
    stage_rates: dict[str, float]
    outputs: list[Path]
    interrupted: bool = False

    @property
    def fps(self) -> float:
        """Frames per second end to end (detection included)."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        """The one-line summary printed at the end of a run."""
        stages = ", ".join(f"{name} {rate:.1f} {STAGE_UNITS[name]}/s" for name, rate in self.stage_rates.items())
        state = "interrupted after" if self.interrupted else "done:"
        paths = ", ".join(str(p) for p in self.outputs)
        return (
            f"{state} {_count(self.frames, 'frame')}, {_count(self.people, 'person', 'people')}, "
            f"{self.fps:.2f} frames/s end to end ({stages}) -> {paths}"
        )


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _refuse_existing_results(outdir: Path) -> None:
    """An --outdir that already holds results is not silently replaced."""
    found = [name for name in (JSON_NAME, JSONL_NAME) if (outdir / name).exists()]
    if found:
        raise AkitError(f"{outdir} already holds results ({found[0]}); pass --exist-ok to replace them")


def _fetch_weights(options: InferOptions, checkpoint: str | None) -> None:
    """Every weights file the run needs, at once: offline, one error names all the missing files."""
    wanted: list[str | os.PathLike] = [checkpoint] if checkpoint is not None else []
    if options.detfile is None and options.detector_model is None:
        detector = detector_weights(options.detector or DEFAULT_DETECTOR, options.detector_weights)
        if detector is not None:
            wanted.append(detector)
    ensure_weights(wanted)


def _report_inputs_left_out(source: FrameSource, detector: object) -> None:
    """Warn about skipped images and detection-file ids that met no frame; fail when none met at all."""
    skipped = getattr(source, "skipped", None)
    if skipped:
        names = ", ".join(str(p) for p in skipped[:3]) + (" ..." if len(skipped) > 3 else "")
        log.warning(f"{len(skipped)} unreadable image(s) skipped: {names}")
    _check_detfile_coverage(detector)


def _check_detfile_coverage(detector: object, image_ids: list[str] | None = None) -> None:
    """A detection file that names none of the frames is an error; one that misses some is a warning."""
    if not isinstance(detector, DetFileDetector):
        return
    coverage = detector.coverage(image_ids)
    message = coverage.message()
    if coverage.none_matched and message:
        raise AkitError(message)
    if message and image_ids is None:
        log.warning(message)


def run_inference(options: InferOptions) -> InferSummary:
    """Run ``akit infer`` with ``options``; returns the summary (also printed unless quiet)."""
    from alphapose_kit.config import load_config

    options.validate()
    if options.outdir and not options.exist_ok:
        _refuse_existing_results(Path(options.outdir))
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    source = open_source(options.source, skip_bad=options.skip_bad)
    if options.pose_model is not None:  # an exported model carries its config; the pipeline around it is unchanged
        from alphapose_kit.deploy import load_backend

        config: str | Path = options.pose_model
        checkpoint: str | None = None
        override = load_config(options.config, options.opts) if options.config else None
        _fetch_weights(options, None)
        network, cfg = load_backend(
            options.pose_model, options.backend, config=override, device=options.device, threads=options.threads
        )
        pipeline = PosePipeline(cfg, options=options.pipeline(), pose_model=network)
    else:
        config, checkpoint = resolve_model_choice(options.config, options.checkpoint)
        cfg = load_config(config, options.opts)
        _fetch_weights(options, checkpoint)
        pipeline = PosePipeline(cfg, checkpoint, options.pipeline())
    image_ids = getattr(source, "image_ids", None)
    if image_ids is not None:  # images: their names are known, so a wrong detection file fails before the run
        _check_detfile_coverage(pipeline.detector, image_ids)
    writer = ResultWriter(
        ensure_writable_dir(options.outdir or next_run_dir()),  # only once everything loaded: no empty runs
        pipeline.keypoint_set,
        fmt=options.fmt,
        save_video=options.save_video,
        save_images=options.save_images,
        video_name=f"AlphaPose_{source.name}.mp4",
        fps=source.fps or DEFAULT_FPS,
        by_track=options.track,
    )
    outdir = writer.outdir
    frame_size: tuple[int, int] | None = None
    interrupted = False
    started = time.perf_counter()
    bar = progress(total=source.length, unit="frame", disable=options.quiet)
    try:
        with terminate_as_interrupt():
            for result in pipeline.run(source):
                writer.write(result, result.image)
                frame_size = frame_size or result.image_size
                bar.update(1)
                bar.set_postfix(people=writer.people, refresh=False)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        writer.close()
        run_info = write_run_info(
            outdir,
            source=options.source,
            fps=source.fps,
            frames=writer.frames,
            size=(frame_size[1], frame_size[0]) if frame_size else None,
            model={"config": str(config), "checkpoint": str(checkpoint), "keypoint_set": pipeline.keypoint_set.name},
            options=options,
        )
    seconds = time.perf_counter() - started
    _report_inputs_left_out(source, pipeline.detector)
    outputs = [*writer.outputs(), run_info]
    rates = {name: pipeline.timer.rate(name) for name in STAGES if pipeline.timer.items.get(name)}
    summary = InferSummary(writer.frames, writer.people, seconds, rates, outputs, interrupted)
    if interrupted:
        log.warning(summary.line())
    elif not options.quiet:
        log.info(summary.line())
    if interrupted:
        raise KeyboardInterrupt
    return summary
