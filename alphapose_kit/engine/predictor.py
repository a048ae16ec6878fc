"""The top-down pipeline as a library: frames -> person boxes -> crops -> heatmaps -> keypoints -> pose NMS.

Follows AlphaPose's demo path step by step (Fang et al., "AlphaPose: Whole-Body Regional Multi-Person Pose
Estimation and Tracking in Real-Time", TPAMI 2022; scripts/demo_inference.py): detection is batched across
frames, pose crops across people and frames, and every stage is timed so throughput can be reported honestly.
"""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config, loss_type
from alphapose_kit.data.keypoints import keypoint_set_of
from alphapose_kit.data.sources import Frame, FrameSource, ThreadedReader, open_source
from alphapose_kit.data.transforms import crop_boxes
from alphapose_kit.detectors import Detections, load_detector
from alphapose_kit.engine.estimator import PoseEstimator
from alphapose_kit.engine.options import DEFAULT_DETECTOR, PipelineOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.io.results import FrameResult, alphapose_idx
from alphapose_kit.models.loader import load_pose_model
from alphapose_kit.ops import oks_pose_nms, parametric_nms_for
from alphapose_kit.ops.scores import person_score
from alphapose_kit.track import TrackingStage
from alphapose_kit.utils.device import resolve_device
from alphapose_kit.utils.logging import get_logger

log = get_logger("engine")
STAGES = ("read", "detect", "crop", "pose", "decode", "nms", "track")
DEFAULT_FPS = 25.0  # time base of a source that does not say its frame rate (images, some streams)


class StageTimer:
    """Wall-clock seconds and call counts per pipeline stage (what the summary line and the benchmark print)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.items: dict[str, int] = defaultdict(int)

    @contextmanager
    def stage(self, name: str, items: int = 0, sync: torch.device | None = None) -> Iterator[None]:
        """Time the block as ``name`` (waiting for ``sync``'s CUDA queue) and count ``items`` for it."""
        start = time.perf_counter()
        yield
        if sync is not None and sync.type == "cuda":
            torch.cuda.synchronize(sync)
        self.seconds[name] += time.perf_counter() - start
        self.items[name] += items

    def rate(self, name: str) -> float:
        """Items per second of one stage (frames for read/detect/nms, people for crop/pose/decode)."""
        seconds = self.seconds.get(name, 0.0)
        return self.items.get(name, 0) / seconds if seconds > 0 else float("inf")


class PosePipeline:
    """AlphaPose's top-down pipeline; ``run(source)`` yields one :class:`FrameResult` per frame, in order.

    ``detector`` is a zoo name ("yolov3-spp", "yolov5s", ...) or any callable ``(frames, image_ids) ->
    list[Detections]``; ``detfile`` (AlphaPose's --detfile JSON) replaces it with precomputed boxes.
    """

    def __init__(
        self,
        config: str | Path | CfgNode,
        checkpoint: str | Path | None = None,
        options: PipelineOptions | None = None,
        *,
        pose_model: nn.Module | None = None,
        **overrides: Any,
    ) -> None:
        """``options`` (or keyword overrides of its fields, e.g. ``flip=True``); ``detector`` may be a callable."""
        self.options = dataclasses.replace(options or PipelineOptions(), **overrides)
        self.options.validate()
        opts = self.options
        self.cfg = load_config(config)
        self.device = resolve_device(opts.device)
        if opts.half and self.device.type != "cuda":
            raise AkitError("--half needs a CUDA device; drop --half or use --device cuda")
        self.keypoint_set = keypoint_set_of(self.cfg)
        # AlphaPose's pose_nms: the whole-body variant for 133/136 joints, its regression constants unless heatmaps
        self.parametric_nms = parametric_nms_for(self.keypoint_set.num_joints, loss_type(self.cfg) == "MSELoss")
        if pose_model is None and checkpoint is None:
            log.warning("PosePipeline without a checkpoint runs random weights")
        self.model = pose_model if pose_model is not None else load_pose_model(self.cfg, checkpoint, self.device)
        # channels_last: 5-25 % faster convolutions on CPU as well as on CUDA (measured on every zoo model)
        self.model.eval().to(memory_format=torch.channels_last)
        self.input_size = tuple(self.cfg.DATA_PRESET.IMAGE_SIZE)  # (h, w)
        self.estimator = PoseEstimator(
            self.model, self.cfg, self.keypoint_set.flip_pairs, self.device, opts.flip, opts.batch, opts.half
        )
        self.detector = self._make_detector()
        self.timer = StageTimer()

    def _make_detector(self) -> Callable[..., list[Detections]]:
        opts = self.options
        detector: Any = opts.detector if opts.detector is not None else DEFAULT_DETECTOR
        if opts.detfile is not None:
            return load_detector("detfile", weights=opts.detfile)
        if opts.detector_model is not None:
            from alphapose_kit.deploy import load_detector_backend

            return load_detector_backend(
                opts.detector_model, self.device, batch_size=opts.det_batch, conf=opts.conf, nms=opts.nms,
                input_size=opts.det_size,
            )  # fmt: skip
        if callable(detector):
            return detector
        if str(detector).strip().lower() == "detfile":
            raise AkitError("--detector detfile needs the file: pass --detfile FILE instead")
        settings: dict[str, Any] = {"device": self.device, "batch_size": opts.det_batch}
        for key, value in (("input_size", opts.det_size), ("conf", opts.conf), ("nms", opts.nms)):
            if value is not None:
                settings[key] = value
        if opts.half:
            settings["half"] = True
        return load_detector(detector, weights=opts.detector_weights, **settings)

    def run(self, source: str | Path | int | FrameSource) -> Iterator[FrameResult]:
        """Detect and estimate poses on every frame of ``source``; frames are decoded in a background thread."""
        frames = source if isinstance(source, FrameSource) else open_source(source)
        reader = ThreadedReader(frames, max_queue=max(8, 2 * self.options.det_batch))
        iterator = iter(reader)
        tracking = TrackingStage.from_options(self.options, frames.fps or DEFAULT_FPS, self.keypoint_set)
        try:
            while True:
                start = time.perf_counter()
                chunk, error = self._next_chunk(iterator)
                self.timer.seconds["read"] += time.perf_counter() - start
                self.timer.items["read"] += len(chunk)
                for result in self.process(chunk) if chunk else []:
                    if tracking is not None:
                        with self.timer.stage("track", 1):
                            tracking.apply(result)
                    yield result
                if error is not None:
                    raise error
                if len(chunk) < self.options.det_batch:
                    return
        finally:
            reader.close()

    def _next_chunk(self, iterator: Iterator[Frame]) -> tuple[list[Frame], AkitError | None]:
        """Up to det_batch frames; a bad frame ends the chunk so the frames before it are still processed."""
        chunk: list[Frame] = []
        try:
            for frame in iterator:
                chunk.append(frame)
                if len(chunk) == self.options.det_batch:
                    break
        except AkitError as exc:
            return chunk, exc
        return chunk, None

    def process(self, frames: Sequence[Frame]) -> list[FrameResult]:
        """Run detection, pose estimation and pose NMS on a group of frames."""
        images = [frame.image for frame in frames]
        with self.timer.stage("detect", len(frames)):
            detections = self.detector(images, [frame.image_id for frame in frames])
        with self.timer.stage("crop"):
            crops, cropped_boxes, owners = self._crop(images, detections)
        self.timer.items["crop"] += len(owners)
        coords, scores = self._estimate(crops, cropped_boxes)
        results = []
        with self.timer.stage("nms", len(frames)):
            for i, frame in enumerate(frames):
                rows = np.flatnonzero(owners == i)
                result = self._finish_frame(frame, detections[i], coords[rows], scores[rows])
                result.image = frame.image
                results.append(result)
        return results

    def _crop(self, images: Sequence[np.ndarray], detections: Sequence[Detections]):
        crops, boxes, owners = [], [], []
        height, width = self.input_size
        for i, (image, dets) in enumerate(zip(images, detections, strict=True)):
            if len(dets) == 0:
                continue
            rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
            frame_crops, frame_boxes = crop_boxes(rgb, dets.boxes, (height, width))
            crops.append(frame_crops)
            boxes.append(frame_boxes)
            owners.extend([i] * len(dets))
        if not crops:
            return np.zeros((0, 3, height, width), np.float32), np.zeros((0, 4), np.float32), np.zeros(0, int)
        return np.concatenate(crops), np.concatenate(boxes), np.asarray(owners)

    def _estimate(self, crops: np.ndarray, cropped_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        est = self.estimator
        k = self.keypoint_set.num_joints
        if len(crops) == 0:
            return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
        all_coords, all_scores = [], []
        for start in range(0, len(crops), est.batch):
            chunk = est.to_device(crops[start : start + est.batch])
            with self.timer.stage("pose", len(chunk), sync=self.device):
                heatmaps = est.heatmaps(chunk)
            with self.timer.stage("decode", len(chunk)):
                coords, scores = est.decode(heatmaps, cropped_boxes[start : start + est.batch])
            all_coords.append(coords)
            all_scores.append(scores)
        return np.concatenate(all_coords), np.concatenate(all_scores)

    def _finish_frame(self, frame: Frame, dets: Detections, coords: np.ndarray, scores: np.ndarray) -> FrameResult:
        size = frame.image.shape[:2]
        if len(dets) == 0:
            return FrameResult.empty(frame.index, frame.image_id, self.keypoint_set.num_joints, size)
        if self.options.pose_nms == "none":
            person = person_score(scores, dets.scores)
            idx = [alphapose_idx([i], dets.ids) for i in range(len(dets))]
            return FrameResult(
                frame.index, frame.image_id, dets.boxes, dets.scores, coords, scores, person, idx, size,
            )  # fmt: skip
        area = self.options.min_box_area
        if self.options.pose_nms == "pnms":
            out = self.parametric_nms(dets.boxes, dets.scores, coords, scores, min_box_area=area)
        else:
            sigmas = self.keypoint_set.sigma_array if self.keypoint_set.sigmas else None
            out = oks_pose_nms(dets.boxes, dets.scores, coords, scores, min_box_area=area, sigmas=sigmas)
        idx = [alphapose_idx(cluster, dets.ids) for cluster in out.clusters]
        return FrameResult(
            frame.index, frame.image_id, out.boxes, out.box_scores, out.keypoints, out.keypoint_scores,
            out.scores, idx, size,
        )  # fmt: skip
