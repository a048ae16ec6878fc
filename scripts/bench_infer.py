"""Benchmark ``akit infer``: per-stage throughput, end-to-end frames/s, the ratio to the networks alone, and pose NMS
against the original AlphaPose's.

The baseline is measured in the same run: the detector's forward on the same letterboxed batches plus the pose
network's forward on as many crops, in the same batch sizes. ``ratio = baseline time / end-to-end time``: 1.0
means the pipeline adds nothing around the two networks (goal >= 0.9). Weights are random (speed does not depend
on them); the detector's person class is biased so that it finds people, and ``--max-det`` fixes people per frame
so that every run does the same work. No ratio is printed when no pose crop ran.

The P-NMS table times akit's ``parametric_pose_nms`` against AlphaPose's own ``pose_nms_body``, run from a clone
outside this repository (``--alphapose DIR`` or ``$AKIT_ALPHAPOSE``: a clone of github.com/MVIG-SJTU/AlphaPose, or
the path of its ``alphapose/utils/pPose_nms.py``), on the same crowds, both on one torch thread, and says whether
the outputs are the same (picks, clusters, merged poses, bit for bit).

Usage: python scripts/bench_infer.py [--frames 300] [--device auto] [--detector yolov3-spp] [--max-det 10]
                                     [--alphapose /tmp/AlphaPose]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import tempfile
import time
from contextlib import nullcontext
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import torch

from alphapose_kit.config import load_config
from alphapose_kit.data.sources import open_source
from alphapose_kit.detectors import YOLODetector, detector_defaults
from alphapose_kit.detectors.letterbox import letterbox_batch
from alphapose_kit.detectors.nets.darknet import DarknetYOLO, YOLOLayer
from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp
from alphapose_kit.detectors.nets.yolov5 import build_yolov5
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.io.writers import ResultWriter
from alphapose_kit.models.loader import load_pose_model
from alphapose_kit.ops import parametric_pose_nms
from alphapose_kit.utils.device import resolve_device

VIDEO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "video" / "people_walking.mp4"


def looped_video(source: Path, frames: int, folder: Path) -> Path:
    """``source`` repeated until it has ``frames`` frames (written once into ``folder``)."""
    capture = cv2.VideoCapture(str(source))
    images = []
    while (item := capture.read())[0]:
        images.append(item[1])
    if not images:
        raise SystemExit(f"cannot read {source}")
    path = folder / f"looped_{frames}.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), 25, images[0].shape[1::-1])
    for i in range(frames):
        writer.write(images[i % len(images)])
    writer.release()
    return path


def bias_person_class(model: DarknetYOLO, frame: np.ndarray, input_size: int, share: float = 1 / 80) -> None:
    """Shift each YOLOv3 head's person logit so that the random net calls about ``share`` of its anchors "person".

    A random YOLOv3-SPP favours one class nearly everywhere, and it is not the person, so it finds nobody and the pose
    stages never run. With each anchor's person bias raised by the ``share``-quantile of (best other class logit -
    person logit) on ``frame``, person wins about as often as with a random YOLOv5 (1 class in 80).
    """
    heads = [(i, layer) for i, layer in enumerate(model.layers) if isinstance(layer, YOLOLayer)]
    inputs: dict[int, torch.Tensor] = {}
    hooks = [layer.register_forward_pre_hook(lambda _m, x, i=i: inputs.update({i: x[0]})) for i, layer in heads]
    device = next(model.parameters()).device
    model.eval()  # as the detector runs it: batch norm with its running statistics
    with torch.no_grad():
        model(letterbox_batch([frame], input_size, device))
        for hook in hooks:
            hook.remove()
        for i, layer in heads:
            anchors, attrs = len(layer.anchors), 5 + layer.num_classes
            logits = inputs[i].float().unflatten(1, (anchors, attrs))[:, :, 5:]  # N, A, C, H, W
            margin = (logits[:, :, 1:].amax(dim=2) - logits[:, :, 0]).transpose(0, 1).reshape(anchors, -1)
            conv = model.layers[i - 1].conv  # the head's linear conv precedes it
            assert isinstance(conv, torch.nn.Conv2d) and conv.bias is not None
            bias = conv.bias.view(anchors, attrs)
            bias[:, 5] += torch.quantile(margin, share, dim=1).to(bias)


def build_detector(name: str, device: torch.device, args: argparse.Namespace, frame: np.ndarray) -> YOLODetector:
    """A random-weight detector with akit's default settings for ``name`` that finds people, capped at ``max_det``."""
    settings = detector_defaults(name)
    if args.input_size:
        settings["input_size"] = args.input_size
    model: torch.nn.Module
    if name == "yolov3-spp":
        model = build_yolov3_spp().to(device)
        bias_person_class(model, frame, settings["input_size"])
    else:
        # YOLOv5 starts with a low objectness prior; with zero head biases a random net scores about
        # 0.5 x 0.5 = 0.25 everywhere, so lower conf; the class argmax makes about 1/80 of anchors "person"
        model = build_yolov5(name.removeprefix("yolov5"))
        with torch.no_grad():
            for conv in model.model[-1].m:
                conv.bias.zero_()
        settings["conf"] = 0.01
    if args.conf is not None:
        settings["conf"] = args.conf
    settings.update(batch_size=args.det_batch, half=args.half, classes=(0,), max_det=args.max_det)
    return YOLODetector(model, device=device, **settings)


def time_pipeline(pipeline: PosePipeline, video: Path, outdir: Path) -> tuple[float, int, int, float]:
    """End-to-end seconds (read -> write), frames, people and seconds spent writing."""
    writer = ResultWriter(outdir, pipeline.keypoint_set)
    frames = people = 0
    write_seconds = 0.0
    start = time.perf_counter()
    for result in pipeline.run(open_source(video)):
        t0 = time.perf_counter()
        writer.write(result)
        write_seconds += time.perf_counter() - t0
        frames += 1
        people += result.num_people
    writer.close()
    return time.perf_counter() - start, frames, people, write_seconds


def record_batch_sizes(module: torch.nn.Module) -> list[int]:
    """A list that fills with the batch size of every forward call of ``module``."""
    sizes: list[int] = []
    module.register_forward_pre_hook(lambda _module, inputs: sizes.append(int(inputs[0].shape[0])))
    return sizes


def time_networks(pipeline: PosePipeline, video: Path, det_sizes: list[int], pose_sizes: list[int]) -> float:
    """Seconds of the detector and pose forwards alone, replaying the batch sizes the pipeline ran."""
    detector, device = pipeline.detector, pipeline.device
    assert isinstance(detector, YOLODetector)
    images = [item.image for item in open_source(video)][: max(det_sizes)]
    frames = letterbox_batch(images, detector.input_size, device).contiguous(memory_format=torch.channels_last)
    if detector.half:
        frames = frames.half()
    h, w = pipeline.input_size
    crops = torch.randn(max(pose_sizes, default=1), 3, h, w, device=device).contiguous(
        memory_format=torch.channels_last
    )
    calls = [(detector.model, frames[:n]) for n in det_sizes] + [(pipeline.model, crops[:n]) for n in pose_sizes]
    autocast = torch.autocast("cuda", dtype=torch.float16) if pipeline.options.half else nullcontext()
    with torch.inference_mode(), autocast:
        for fn, batch in {(id(fn), b.shape[0]): (fn, b) for fn, b in calls}.values():
            fn(batch)  # warm-up of every shape, as the pipeline had its warm-up pass
        return sum(_timed(lambda fn=fn, b=b: fn(b), device) for fn, b in calls)


def _timed(fn, device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def nms_crowd(candidates: int, joints: int = 17) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """A seeded crowd of ``candidates`` poses: people with 3 jittered copies each (boxes, scores, keypoints, scores)."""
    rng = np.random.default_rng(candidates)
    people = max(1, candidates // 3)
    centres = rng.uniform(100, 900, (people, 1, 2))
    base = centres + rng.normal(0, 40, (people, joints, 2))
    owner = np.arange(candidates) % people
    kps = (base[owner] + rng.normal(0, 2, (candidates, joints, 2))).astype(np.float32)
    scores = rng.uniform(0.2, 1.0, (candidates, joints)).astype(np.float32)
    boxes = np.concatenate([kps.min(axis=1), kps.max(axis=1)], axis=1).astype(np.float32)
    box_scores = rng.uniform(0.5, 1.0, candidates).astype(np.float32)
    return boxes, box_scores, kps, scores


def load_original_pose_nms(path: Path | None):
    """AlphaPose's pPose_nms module from a clone outside this repository (its root or the file), else None."""
    if path is None:
        return None
    file = path if path.is_file() else path / "alphapose" / "utils" / "pPose_nms.py"
    if not file.is_file():
        raise SystemExit(f"--alphapose: no {file} (give a clone of github.com/MVIG-SJTU/AlphaPose or that file)")
    spec = importlib.util.spec_from_file_location("alphapose_original_ppose_nms", file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def original_call(module, boxes, box_scores, kps, scores):
    """A zero-argument call of AlphaPose's pose_nms_body on fresh tensors (it edits its inputs in place)."""
    n, k = scores.shape
    args = (
        torch.from_numpy(boxes.copy()), torch.from_numpy(box_scores.reshape(n, 1).copy()),
        torch.arange(n, dtype=torch.float32).reshape(n, 1), torch.from_numpy(kps.copy()),
        torch.from_numpy(scores.reshape(n, k, 1).copy()), 0,
    )  # fmt: skip
    return lambda: module.pose_nms_body(*[a.clone() if isinstance(a, torch.Tensor) else a for a in args])


def same_output(ours, theirs) -> bool:
    """Picks, clusters, merged keypoints and joint scores equal bit for bit (``theirs``: pose_nms_body's tuple)."""
    _, _, ids, poses, pose_scores, picks = theirs
    if [int(p) for p in picks] != ours.picked.tolist():
        return False
    if [np.asarray(i, np.float32).reshape(-1).astype(np.int64).tolist() for i in ids] != [
        c.tolist() for c in ours.clusters
    ]:
        return False
    if not poses:
        return len(ours) == 0
    keypoints, joint_scores = np.stack([p.numpy() for p in poses]), np.stack([s.numpy()[:, 0] for s in pose_scores])
    return np.array_equal(keypoints, ours.keypoints) and np.array_equal(joint_scores, ours.keypoint_scores)


def time_pose_nms(original, candidates: int, repeats: int) -> tuple[float, float | None, bool | None]:
    """Milliseconds per call of akit's parametric_pose_nms and of the original (None without it) on one crowd, and
    whether their outputs are the same. Calls alternate in ``repeats`` rounds; the best round of each is kept."""
    crowd = nms_crowd(candidates)
    ours = lambda: parametric_pose_nms(*crowd)  # noqa: E731
    theirs = original_call(original, *crowd) if original is not None else None
    calls = max(1, 2000 // candidates)
    best = {"ours": float("inf"), "theirs": float("inf")}
    for _ in range(repeats):
        for key, fn in (("ours", ours), ("theirs", theirs)):
            if fn is None:
                continue
            fn()  # warm-up
            start = time.perf_counter()
            for _ in range(calls):
                fn()
            best[key] = min(best[key], (time.perf_counter() - start) / calls * 1000)
    if theirs is None:
        return best["ours"], None, None
    return best["ours"], best["theirs"], same_output(ours(), theirs())


def print_nms_table(original, repeats: int) -> None:
    """The P-NMS table: akit against the original on crowds of 10, 50 and 200 candidates, one torch thread each."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # both run one frame's NMS serially; a fork/join per tiny op only adds noise
    try:
        rows = [(n, *time_pose_nms(original, n, repeats)) for n in (10, 50, 200)]
    finally:
        torch.set_num_threads(threads)
    print("| P-NMS candidates | akit ms | AlphaPose ms | speed-up | same output |")
    print("|---:|---:|---:|---:|:---:|")
    for n, ours, theirs, same in rows:
        if theirs is None:
            print(f"| {n} | {ours:.2f} | n/a | n/a | n/a |")
        else:
            print(f"| {n} | {ours:.2f} | {theirs:.2f} | {theirs / ours:.1f}x | {'yes' if same else 'NO'} |")
    if original is None:
        print("(AlphaPose not timed: pass --alphapose DIR, a clone of github.com/MVIG-SJTU/AlphaPose)")


def ratio_line(networks: float, e2e: float, crops: int) -> str:
    """The end-to-end / networks-only line; refused (SystemExit) when no pose crop ran, as it would then time the
    detector alone."""
    if crops == 0:
        raise SystemExit("no pose crop ran (the detector found nobody): no end-to-end ratio")
    return f"end-to-end / networks-only ratio: {networks / e2e:.3f} (goal >= 0.9)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--video", type=Path, default=VIDEO)
    parser.add_argument("--config", default="coco/fastpose_res50_256x192")
    parser.add_argument("--detector", default="yolov3-spp", choices=["yolov3-spp", "yolov5n", "yolov5s", "yolov5m"])
    parser.add_argument("--input-size", type=int, default=None, help="detector letterbox side (default: its own)")
    parser.add_argument("--conf", type=float, default=None)
    parser.add_argument("--max-det", type=int, default=10, help="people per frame")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--det-batch", type=int, default=4)
    parser.add_argument("--half", action="store_true")
    parser.add_argument("--flip", action="store_true")
    parser.add_argument("--repeats", type=int, default=2, help="alternating timed runs; the best of each is kept")
    parser.add_argument("--opts", nargs="*", default=[], help="config overrides, KEY VALUE ... (as akit infer)")
    parser.add_argument("--alphapose", type=Path, default=os.environ.get("AKIT_ALPHAPOSE") or None,
                        help="a clone of MVIG-SJTU/AlphaPose (or its pPose_nms.py) to time the original P-NMS; "
                        "default $AKIT_ALPHAPOSE")  # fmt: skip
    parser.add_argument("--nms-repeats", type=int, default=5, help="alternating timed rounds of the P-NMS table")
    args = parser.parse_args()

    original = load_original_pose_nms(args.alphapose)
    device = resolve_device(args.device)
    torch.manual_seed(0)
    cfg = load_config(args.config, args.opts)
    pose_model = load_pose_model(cfg, device=device)
    head = [m for m in pose_model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    with torch.no_grad():
        head.bias.fill_(1.0)  # random heatmaps score < 0.3 and P-NMS would drop everyone; this keeps them
    capture = cv2.VideoCapture(str(args.video))
    ok, first_frame = capture.read()
    capture.release()
    if not ok:
        raise SystemExit(f"cannot read {args.video}")
    pipeline = PosePipeline(
        cfg, detector=build_detector(args.detector, device, args, first_frame), device=device, flip=args.flip,
        batch=args.batch, det_batch=args.det_batch, half=args.half, pose_model=pose_model,
    )  # fmt: skip
    machine = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "CPU"
    with tempfile.TemporaryDirectory() as tmp:
        video = looped_video(args.video, args.frames, Path(tmp))
        list(islice(pipeline.run(open_source(video)), 2 * args.det_batch))  # warm-up: allocators, cuDNN, caches
        assert isinstance(pipeline.detector, YOLODetector)
        det_sizes, pose_sizes = record_batch_sizes(pipeline.detector.model), record_batch_sizes(pipeline.model)
        # alternate the two measurements and keep the best of each, so a load spike cannot favour either
        best_e2e = best_networks = float("inf")
        for _ in range(args.repeats):
            pipeline.timer.seconds.clear()
            pipeline.timer.items.clear()
            det_sizes.clear()
            pose_sizes.clear()
            e2e, frames, people, write_seconds = time_pipeline(pipeline, video, Path(tmp) / "out")
            if e2e < best_e2e:
                best_e2e, best_timer = e2e, (dict(pipeline.timer.seconds), dict(pipeline.timer.items))
                best_write = write_seconds
            replay = list(det_sizes), list(pose_sizes)
            best_networks = min(best_networks, time_networks(pipeline, video, *replay))
    e2e, networks, write_seconds = best_e2e, best_networks, best_write
    pipeline.timer.seconds.update(best_timer[0])
    pipeline.timer.items.update(best_timer[1])
    timer = pipeline.timer
    print(
        f"# akit infer benchmark: {frames} frames of {args.video.name}, {people} people ({people / frames:.1f}/frame)"
    )
    print(f"# device {device} ({machine}), torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"# detector {args.detector} (random weights, <= {args.max_det} boxes), pose {args.config}, flip {args.flip}")
    print("| stage | items | seconds | items/s |")
    print("|---|---:|---:|---:|")
    rows = [("read (decode video)", "read"), ("detect", "detect"), ("crop", "crop"), ("pose forward", "pose"),
            ("decode heatmaps", "decode"), ("pose NMS", "nms")]  # fmt: skip
    for label, key in rows:
        print(f"| {label} | {timer.items[key]} | {timer.seconds[key]:.3f} | {timer.rate(key):.1f} |")
    print(f"| write JSON | {frames} | {write_seconds:.3f} | {frames / write_seconds:.1f} |")
    print(f"| end to end | {frames} | {e2e:.3f} | {frames / e2e:.2f} |")
    print(f"| networks only (detector + pose forward) | {frames} | {networks:.3f} | {frames / networks:.2f} |")
    print(ratio_line(networks, e2e, timer.items["crop"]), flush=True)
    print_nms_table(original, args.nms_repeats)


if __name__ == "__main__":
    main()
