"""``akit eval`` as a library call: a pose model (or an existing results file) scored on COCO-format annotations
with COCO's own metric, the way AlphaPose's ``scripts/validate.py`` does it, plus diagnostics.

Under ``torchrun --nproc_per_node N -m alphapose_kit eval ...`` the images are shared out across the processes
(image i goes to rank i mod N), every rank's poses are gathered, and rank 0 alone builds the results (in the same
order as one process would), runs COCOeval and writes the files: the numbers do not depend on N.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.config import load_config
from alphapose_kit.data.coco import CocoAnnotations, person_labels
from alphapose_kit.data.keypoints import KeypointSet, get_keypoint_set, keypoint_set_of
from alphapose_kit.detectors import load_detector
from alphapose_kit.engine.distributed import DistContext, broadcast_object, init_distributed, shutdown
from alphapose_kit.engine.estimator import PoseEstimator
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.detections import (
    DetectionEntries,
    detect_people,
    detection_entries,
    read_detections,
)
from alphapose_kit.evaluation.diagnostics import joint_diagnostics
from alphapose_kit.evaluation.metric import coco_index, evaluate_keypoints
from alphapose_kit.evaluation.options import EvalOptions
from alphapose_kit.evaluation.poses import PoseOutputs, crop_jobs, det_records, estimate, gt_records
from alphapose_kit.evaluation.results import ImageIds, read_results, write_json, write_results
from alphapose_kit.evaluation.wholebody import evaluate_wholebody
from alphapose_kit.io.run_dir import claim_outdir, ensure_writable_dir
from alphapose_kit.io.run_info import read_run_info, run_keypoint_set
from alphapose_kit.models.loader import load_pose_model
from alphapose_kit.utils.logging import is_main_process

log = logging.getLogger("akit.eval")

# every file akit eval may write into its folder: what --exist-ok replaces there (nothing else)
OUTPUTS = ("metrics.json", "detections.json", "results.json", "results_gt.json", "results_det.json", "eval.png",
           "eval_gt.png", "eval_det.png")  # fmt: skip
DEFAULT_WORKERS = 4
DETECTOR_FRAMES = 4  # frames handed to a detector per call


def evaluate(
    coco: str | Path | None = None,
    images: str | Path | None = None,
    *,
    options: EvalOptions | None = None,
    model: nn.Module | None = None,
    detector: Callable[..., Sequence[Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Score a pose model (or ``results=FILE``) on COCO keypoint annotations; returns what metrics.json holds.

    ``options`` (or keyword overrides of its fields: ``checkpoint``, ``config``, ``boxes``, ``flip``, ``pose_nms``,
    ``batch``, ``workers``, ``device``, ``outdir``, ``plot``, ``results``...). ``model`` replaces the one the config
    and checkpoint would build; ``detector`` (a callable ``(frames, image_ids) -> list[Detections]``) replaces the
    detector that a detector name in ``boxes`` would load. One pass gives the ten COCO numbers (``AP`` ... ``ARl``)
    and the diagnostics at the top level; ``boxes="gt,DETS.json"`` gives ``{"gt": {...}, "det": {...}}``.
    """
    if coco is not None:
        overrides["coco"] = str(coco)
    if images is not None:
        overrides["images"] = str(images)
    opts = dataclasses.replace(options or EvalOptions(), **overrides)
    opts.validate()
    if is_main_process():  # the output folder rule (io.run_dir), checked before anything is loaded
        claimed = claim_outdir("eval", opts.outdir, OUTPUTS, exist_ok=opts.exist_ok)
        opts = dataclasses.replace(opts, outdir=str(claimed))
    if model is not None and opts.checkpoint is not None:
        raise AkitError("pass either a model or a checkpoint, not both")
    if opts.posetrack is not None:
        from alphapose_kit.evaluation.posetrack import evaluate_posetrack

        outdir = _outdir(opts)
        return {**evaluate_posetrack(opts.posetrack, opts.results or "", outdir), "outdir": str(outdir)}
    annotations = CocoAnnotations(opts.coco)
    if opts.results is not None:
        return _evaluate_results(opts, annotations)
    joined = not dist.is_initialized()
    ctx = init_distributed(opts.device)
    try:
        return _evaluate_model(opts, annotations, ctx, model, detector)
    finally:
        if joined:
            shutdown(ctx)


# --------------------------------------------------------------------------------------------------------------
# results file


def _evaluate_results(opts: EvalOptions, annotations: CocoAnnotations) -> dict[str, Any]:
    if opts.config is not None:
        keypoint_set = _checked_set(keypoint_set_of(load_config(opts.config, opts.opts)), annotations)
    else:  # the run's own set when run.json records it (a custom set travels with its results), else by count
        recorded = run_keypoint_set(read_run_info(opts.results or "") or {})
        if not isinstance(recorded, KeypointSet):
            recorded = get_keypoint_set(recorded or annotations.joint_count)
        keypoint_set = _checked_set(recorded, annotations)
    sigmas = keypoint_set.sigma_array
    loaded = read_results(opts.results or "", ImageIds(annotations), annotations.joint_count, annotations.category_id)
    if loaded.unmatched:
        log.warning("%d results name no image of %s and are left out", loaded.unmatched, annotations.path.name)
    image_ids = sorted({r["image_id"] for r in loaded.records})
    metrics = _score(annotations, loaded.records, image_ids, keypoint_set, sigmas)
    metrics.update(
        source=str(opts.results),
        unmatched_results=loaded.unmatched,
        images_without_results=len(annotations.images) - len(image_ids),
    )
    if not is_main_process():  # a results file is scored in one process; only rank 0 writes
        return metrics
    outdir = _outdir(opts)
    write_results(outdir / "results.json", loaded.records)
    return _finish(opts, outdir, {"": metrics})


# --------------------------------------------------------------------------------------------------------------
# model


def _evaluate_model(
    opts: EvalOptions,
    annotations: CocoAnnotations,
    ctx: DistContext,
    model: nn.Module | None,
    detector: Callable[..., Sequence[Any]] | None,
) -> dict[str, Any]:
    cfg, checkpoint = _model_config(opts, model)
    keypoint_set = _checked_set(keypoint_set_of(cfg), annotations)
    sigmas = keypoint_set.sigma_array  # a set without sigmas fails here, before anything slow
    image_dir = Path(opts.images or "")
    annotations.check_images(image_dir)
    use_gt, det_source = opts.box_sources()
    entries = _detection_file(det_source, annotations) if det_source and detector is None else None
    ran_detector = bool(det_source) and entries is None
    if ran_detector and detector is None:  # loaded before the pose model: a bad name or weights fail at once
        # at the thresholds of configs/detector/<name>.yaml: for yolov3-spp AlphaPose's (detector/yolo_cfg.py, the
        # ones its write_coco_json evaluation uses), low so that AP is not cut short
        detector = load_detector(str(det_source), weights=opts.detector_weights, device=ctx.device)
    if use_gt and not det_source and opts.pose_nms != "none":
        log.warning("--pose-nms applies to detected boxes only; AlphaPose's ground-truth pass has none")
    if model is None:
        model = load_pose_model(cfg, checkpoint, ctx.device)
    model.eval().to(memory_format=torch.channels_last)
    estimator = PoseEstimator(model, cfg, keypoint_set.flip_pairs, ctx.device, opts.flip, opts.batch)
    input_size = tuple(cfg.DATA_PRESET.IMAGE_SIZE)
    workers = min(DEFAULT_WORKERS, os.cpu_count() or 1) if opts.workers is None else opts.workers
    progress = not opts.quiet and ctx.is_main
    paths = {i: annotations.image_path(image_dir, i) for i in annotations.images}

    def run(image_ids: np.ndarray, boxes: np.ndarray, name: str) -> PoseOutputs | None:
        jobs = crop_jobs(image_ids, boxes, paths)[ctx.rank :: ctx.world_size]
        part = estimate(estimator, jobs, input_size, min(workers, len(jobs)), progress, name)
        return _gather(ctx, part, keypoint_set.num_joints)

    passes: dict[str, dict[str, Any]] = {}
    records: dict[str, list[dict[str, Any]]] = {}
    all_images = sorted(annotations.images)
    if use_gt:
        labels = person_labels(annotations, image_dir)
        if not labels:
            raise AkitError(f"{annotations.path}: no annotated person passes AlphaPose's filters (labelled joints)")
        ids = np.array([label.image_id for label in labels], np.int64)
        poses = run(ids, np.stack([label.bbox for label in labels]), "gt boxes")
        if poses is not None:
            records["gt"] = gt_records(ids, poses, annotations.category_id)
            passes["gt"] = {"boxes": "gt"}
    if det_source:
        if entries is None:
            assert detector is not None
            entries = _run_detector(det_source, detector, annotations, image_dir, ctx)
        poses = run(entries.image_ids, entries.boxes, "detected boxes")
        if poses is not None:
            records["det"] = det_records(
                entries.image_ids, entries.xywh, entries.scores, poses, opts.pose_nms, sigmas, annotations.category_id
            )
            passes["det"] = {
                "boxes": det_source,
                "pose_nms": opts.pose_nms,
                "detections": len(entries),
                "unmatched_detections": entries.unmatched,
                "images_without_boxes": len(all_images) - len(set(entries.image_ids.tolist())),
            }
            if entries.unmatched:
                log.warning("%d detections name no image of %s and are left out", entries.unmatched, annotations.path)
    metrics: dict[str, Any] | None = None
    if ctx.is_main:
        outdir = _outdir(opts)
        for name, extra in passes.items():
            scored = _score(annotations, records[name], all_images, keypoint_set, sigmas)
            scored.update(extra, flip=opts.flip)
            passes[name] = scored
            suffix = "" if len(passes) == 1 else f"_{name}"
            write_results(outdir / f"results{suffix}.json", records[name])
        if ran_detector and entries is not None:  # the boxes, reusable as --boxes detections.json
            write_json(outdir / "detections.json", _entries_as_records(entries))
        metrics = _finish(opts, outdir, passes)
    return broadcast_object(ctx, metrics)  # type: ignore[return-value]


def _model_config(opts: EvalOptions, model: nn.Module | None) -> tuple[CfgNode, str | Path | None]:
    from alphapose_kit.engine.infer import DEFAULT_CONFIG, resolve_model_choice

    if model is not None:
        return load_config(opts.config or DEFAULT_CONFIG, opts.opts), None
    config, checkpoint = resolve_model_choice(opts.config, opts.checkpoint)
    return load_config(config, opts.opts), checkpoint


def _checked_set(keypoint_set: KeypointSet, annotations: CocoAnnotations) -> KeypointSet:
    if keypoint_set.num_joints != annotations.joint_count:
        raise AkitError(
            f"the model predicts {keypoint_set.num_joints} joints ({keypoint_set.name}) but "
            f"{annotations.path.name} annotates {annotations.joint_count}"
        )
    return keypoint_set


def _is_detector(source: str | None) -> bool:
    return bool(source) and not str(source).lower().endswith(".json") and not Path(str(source)).is_file()


def _detection_file(source: str, annotations: CocoAnnotations) -> DetectionEntries | None:
    """The entries of a detection file, or None when ``source`` names a detector."""
    if _is_detector(source):
        return None
    return read_detections(source, ImageIds(annotations))


def _run_detector(
    name: str,
    detector: Callable[..., Sequence[Any]],
    annotations: CocoAnnotations,
    image_dir: Path,
    ctx: DistContext,
) -> DetectionEntries:
    """Detect people in every annotated image (sorted ids, shared out across ranks)."""
    mine = sorted(annotations.images)[ctx.rank :: ctx.world_size]
    records = detect_people(detector, annotations, image_dir, mine, DETECTOR_FRAMES)
    if ctx.distributed:
        parts: list[Any] = [None] * ctx.world_size
        dist.all_gather_object(parts, records)
        by_image: dict[int, list[dict[str, Any]]] = {}
        for part in parts:
            for rec in part:
                by_image.setdefault(rec["image_id"], []).append(rec)
        records = [rec for image_id in sorted(by_image) for rec in by_image[image_id]]
    return detection_entries(records, ImageIds(annotations), f"detector {name}")


def _entries_as_records(entries: DetectionEntries) -> list[dict[str, Any]]:
    return [
        {"image_id": int(i), "category_id": 1, "score": float(s), "bbox": [float(v) for v in box]}
        for i, box, s in zip(entries.image_ids, entries.xywh, entries.scores, strict=True)
    ]


def _gather(ctx: DistContext, part: PoseOutputs, num_joints: int) -> PoseOutputs | None:
    """Every rank's poses on rank 0 (sorted by row); None on the other ranks."""
    if not ctx.distributed:
        return part
    parts: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(parts, part)
    return PoseOutputs.concat(parts, num_joints) if ctx.is_main else None


# --------------------------------------------------------------------------------------------------------------
# scoring and outputs


def _score(
    annotations: CocoAnnotations,
    records: list[dict[str, Any]],
    image_ids: Sequence[int],
    keypoint_set: KeypointSet,
    sigmas: np.ndarray,
) -> dict[str, Any]:
    """The ten numbers, AP per OKS threshold and the diagnostics of one set of results."""
    if not records:
        raise AkitError("no poses to evaluate (every box was dropped)")
    if annotations.joint_count != annotations.num_joints:  # COCO-WholeBody: parts in their own fields
        parts = evaluate_wholebody(annotations.data, records, keypoint_set, image_ids)
        return {**parts["wholebody"], "parts": parts, "images": len(image_ids), "results": len(records)}
    result = evaluate_keypoints(coco_index(annotations.data), records, image_ids, sigmas)
    scored = {
        **result.stats,
        "ap_by_oks": result.ap_by_oks,
        **joint_diagnostics(result.cocoeval, keypoint_set),
        "images": len(image_ids),
        "results": len(records),
    }
    if len(keypoint_set.parts) > 1:  # whole-body sets: COCO-WholeBody's metric per part as well
        scored["parts"] = evaluate_wholebody(annotations.data, records, keypoint_set, image_ids)
    return scored


def _outdir(opts: EvalOptions) -> Path:
    """The folder claimed when the evaluation started, created now that there is something to write."""
    return ensure_writable_dir(opts.outdir or "")


def _finish(opts: EvalOptions, outdir: Path, passes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """metrics.json (and eval*.png): one pass flat, two passes under their names."""
    if opts.plot:
        from alphapose_kit.evaluation.plot import save_plot

        for name, metrics in passes.items():
            suffix = "" if len(passes) == 1 else f"_{name}"
            save_plot(metrics, outdir / f"eval{suffix}.png", title=f"{name} boxes" if name else "")
    metrics = next(iter(passes.values())) if len(passes) == 1 else dict(passes)
    metrics = {**metrics, "outdir": str(outdir)}
    write_json(outdir / "metrics.json", metrics)
    return metrics
