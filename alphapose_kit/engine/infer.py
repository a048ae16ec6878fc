"""``akit infer`` as a library call: resolve config and weights, run the pipeline, write outputs, report speed.

Interrupting (Ctrl-C, SIGTERM) is taken at frame boundaries and still writes the final JSON from every finished
frame; a hard kill leaves the JSON Lines stream, one finished frame per line, and a run.json saying ``running``.
"""

from __future__ import annotations

import dataclasses
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
from alphapose_kit.io.push import FramePusher
from alphapose_kit.io.run_dir import claim_outdir
from alphapose_kit.io.run_info import DONE, FAILED, INTERRUPTED, RUN_INFO_NAME, RUNNING, write_run_info
from alphapose_kit.io.writers import OUTPUTS as WRITER_OUTPUTS
from alphapose_kit.io.writers import ResultWriter
from alphapose_kit.models.choice import DEFAULT_CONFIG as DEFAULT_CONFIG  # re-exported: callers import it here
from alphapose_kit.models.choice import resolve_model_choice
from alphapose_kit.utils.logging import get_logger
from alphapose_kit.utils.progress import progress
from alphapose_kit.utils.signals import frame_boundaries

log = get_logger("infer")
PUSH_BUFFER_NAME = "push-buffer.jsonl"  # --push: frames not yet acknowledged by the server
OUTPUTS = (*WRITER_OUTPUTS, RUN_INFO_NAME)  # what --exist-ok replaces in an --outdir (nothing else there)
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


def _pusher(options: InferOptions, outdir: Path, fps: float | None) -> FramePusher | None:
    """The edge client of ``--push`` (its disk buffer in the run folder), or None."""
    if options.push is None:
        return None
    if not options.track:
        log.warning("--push without --track: the server's analyses need track ids; add --track")
    buffer = outdir / PUSH_BUFFER_NAME
    return FramePusher(options.push, options.token or "", buffer, session_id=options.session, fps=fps or None)


def _close_pusher(pusher: FramePusher | None) -> None:
    """Send what is still buffered (a while, then give up); frames left are replayed by the next --push run."""
    if pusher is None:
        return
    left = pusher.close()
    if left:
        log.warning("%d frame(s) could not reach %s yet; they stay in %s for the next run", left, pusher.url,
                    pusher.buffer)  # fmt: skip


def _int8_options(options: InferOptions) -> InferOptions:
    """``--int8``: the same run on the cached (or now exported) ONNX Runtime INT8 pose model, calibrated on the
    source's own people (or ``--calib``'s) and checked against fp32 before it is used."""
    from alphapose_kit.deploy import int8_models
    from alphapose_kit.deploy.calibration import check_source

    if options.calib is not None:
        check_source(options.calib)
    config, checkpoint = resolve_model_choice(options.config, options.checkpoint)
    _fetch_weights(options, checkpoint)
    models = int8_models(
        config, checkpoint, options.source, detector=options.detector, detector_weights=options.detector_weights,
        detfile=options.detfile, calib=options.calib, device=options.device, opts=options.opts,
    )  # fmt: skip
    return dataclasses.replace(
        options, int8=False, backend="onnxruntime", pose_model=str(models.pose), checkpoint=None, config=None, opts=[]
    )


def run_inference(options: InferOptions) -> InferSummary:
    """Run ``akit infer`` with ``options``; returns the summary (also printed unless quiet)."""
    from alphapose_kit.config import load_config

    options.validate()
    outdir = claim_outdir("infer", options.outdir, OUTPUTS, exist_ok=options.exist_ok)  # before anything slow
    if options.threads is not None:
        torch.set_num_threads(options.threads)
    source = open_source(options.source, skip_bad=options.skip_bad)
    pusher = _pusher(options, outdir, source.fps)  # a bad URL or a missing token fails before any model loads
    if options.int8:
        options = _int8_options(options)
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
        outdir,  # created only now that everything loaded: a failed start leaves no empty run folder
        pipeline.keypoint_set,
        fmt=options.fmt,
        save_video=options.save_video,
        save_images=options.save_images,
        video_name=f"AlphaPose_{source.name}.mp4",
        fps=source.fps or DEFAULT_FPS,
        by_track=options.track,
    )
    model = {"config": str(config), "checkpoint": str(checkpoint), "keypoint_set": pipeline.keypoint_set}

    def record(status: str, size: tuple[int, int] | None = None) -> Path:
        return write_run_info(
            outdir, source=options.source, fps=source.fps, frames=writer.frames, size=size, model=model,
            options=options, status=status,
        )  # fmt: skip

    record(RUNNING)  # a run killed outright still says what it ran; eval and analyze read its JSONL
    frame_size: tuple[int, int] | None = None
    status = FAILED
    started = time.perf_counter()
    bar = progress(total=source.length, unit="frame", disable=options.quiet)
    with frame_boundaries() as boundaries:  # Ctrl-C / SIGTERM never split a frame's JSONL line from its video frame
        try:
            for result in pipeline.run(source):
                with boundaries.writing():
                    line = writer.write(result, result.image)
                    if pusher is not None:
                        pusher.push(line)
                    frame_size = frame_size or result.image_size
                    bar.update(1)
                    bar.set_postfix(people=writer.people, refresh=False)
            status = DONE
        except KeyboardInterrupt:
            status = INTERRUPTED
        finally:
            with boundaries.writing(act=False):  # a second Ctrl-C does not cut the final files short
                bar.close()
                writer.close()
                _close_pusher(pusher)
                if status == DONE and boundaries.pending:
                    status = INTERRUPTED
                run_info = record(status, (frame_size[1], frame_size[0]) if frame_size else None)
    interrupted = status == INTERRUPTED
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
