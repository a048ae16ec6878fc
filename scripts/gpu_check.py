"""CPU vs CUDA parity of every pose family, the detectors and the pipeline, then the benchmark on CUDA.

One run, a few minutes on a CUDA machine (seeded random weights: nothing is downloaded):

1. pose families (FastPose, FastPose-DUC shuffle and SE, SimplePose, HRNet-W32, FastPose-DCN): heatmaps and
   keypoints of the same crops through ``PoseEstimator`` on CPU (float32, the reference) and on CUDA in three
   precisions: ``fp32`` (TF32 off: CUDA's float32 kernels), ``tf32`` (PyTorch's default for cuDNN convolutions,
   what a plain ``--device cuda`` run uses) and ``fp16`` (autocast, what ``--half`` uses);
2. detectors (YOLOv5s, YOLOv3-SPP, biased towards people; about 200 candidates per frame): the raw predictions
   (boxes, objectness, class scores) in the same three precisions (fp16: the detector's ``half=True``), and the
   final boxes: CUDA's must equal the CPU post-processing of CUDA's own predictions (NMS amplifies near-ties
   between scores, so agreement with CPU's own boxes is only counted);
3. the pipeline end to end: ``PosePipeline`` with FastPose-R50 on the shared COCO images and their detection
   file, CPU vs CUDA in the same three precisions (pose NMS off so that people pair up; it is CPU-only code);
4. ``scripts/bench_infer.py`` on CUDA with YOLOv5s + FastPose-R50, fp32 and fp16, its table printed as is.

Tolerances (stated once, in ``TOLERANCES``): heatmaps ``max|cuda - cpu| / max|cpu|``; detector boxes
``max|cuda - cpu| / (1 + |cpu|)`` over cx, cy, w, h; detector scores ``max|cuda - cpu|``. Keypoints follow from
heatmaps through CPU code, so they are compared where the heatmaps decide them: a keypoint is *decided* when
its heatmap's decision margin (the peak's lead over the runner-up, its distance from 0, the neighbour
differences that set the quarter-pixel shift) exceeds twice the measured heatmap difference; decided keypoints
must be identical, the others are near-ties (counted, their largest move reported). Random weights give flat
heatmaps, so near-ties are common in fp16; trained weights give peaked ones.

Prints one PASS/FAIL line per check and a summary; exits 1 on any failure, 2 without CUDA (one line), 3 when
alphapose_kit cannot be imported. The shared data (coco/, video/) is looked for in ``<repo>/shared/data`` and
``<repo>/../shared/data``; elsewhere pass ``--data``. On a machine without the package installed:
``PYTHONPATH=. python3 scripts/gpu_check.py`` (its dependencies must be there: the device image lacks yacs).
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
DATA_CANDIDATES = (REPO / "shared" / "data", REPO.parent / "shared" / "data")

POSE_FAMILIES: tuple[tuple[str, str], ...] = (
    ("FastPose R50", "coco/fastpose_res50_256x192"),
    ("FastPose-DUC shuffle R50", "coco/fastpose_duc_shuffle_res50_256x192"),
    ("FastPose-DUC SE-R152", "coco/fastpose_duc_res152_256x192"),
    ("SimplePose R50", "coco/simplepose_res50_256x192"),
    ("HRNet-W32", "coco/hrnet_w32_256x192"),
    ("FastPose-DCN R50", "coco/fastpose_dcn_res50_256x192"),
)
DETECTORS = ("yolov5s", "yolov3-spp")
PIPELINE_CONFIG = "coco/fastpose_res50_256x192"


@dataclass(frozen=True)
class Tolerance:
    """How far CUDA may be from the CPU reference in one precision."""

    heatmap: float  # max |cuda - cpu| / max |cpu| over the heatmaps
    box: float  # max |cuda - cpu| / (1 + |cpu|) over raw cx, cy, w, h (pixels)
    score: float  # max |cuda - cpu| over raw objectness and class scores


# fp32 with TF32 off: only the order of float32 sums differs. TF32 and fp16 round products to a 10-bit mantissa.
TOLERANCES: dict[str, Tolerance] = {
    "fp32": Tolerance(heatmap=1e-4, box=1e-4, score=1e-4),
    "tf32": Tolerance(heatmap=2e-2, box=2e-2, score=1e-2),
    "fp16": Tolerance(heatmap=2e-2, box=2e-2, score=1e-2),
}


@dataclass
class Check:
    """One PASS/FAIL line."""

    name: str
    passed: bool
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {self.detail}"


def guarded(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """Run checks; an exception becomes one FAIL line named ``name`` (its traceback goes to stderr)."""
    try:
        return run()
    except Exception as exc:  # a broken family must not hide the others' results
        traceback.print_exc(file=sys.stderr)
        first = (str(exc).strip().splitlines() or [""])[0]
        return [Check(name, False, f"{type(exc).__name__}: {first}")]


# ---------------------------------------------------------------------------------------------------------
# Comparisons (pure functions: no device needed)


def heatmap_error(reference: np.ndarray, other: np.ndarray) -> tuple[float, float]:
    """(max |other - reference|, that divided by max |reference|)."""
    diff = float(np.abs(other.astype(np.float64) - reference.astype(np.float64)).max(initial=0.0))
    scale = float(np.abs(reference).max(initial=0.0))
    return diff, diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))


def decision_margin(heatmaps: np.ndarray) -> np.ndarray:
    """(N, K) distance of each map from a change of its decoded keypoint (see the module docstring).

    The smallest of: the peak's lead over the second-largest value, |peak| (a peak <= 0 decodes to (0, 0)),
    and |right - left|, |below - above| around the peak (their signs set the quarter-pixel shift; taken at
    the border too, where they only make the margin smaller).
    """
    n, k, h, w = heatmaps.shape
    flat = heatmaps.reshape(n * k, h * w).astype(np.float64)
    rows = np.arange(n * k)
    top2 = np.partition(flat, h * w - 2, axis=1)[:, -2:] if h * w > 1 else np.repeat(flat, 2, axis=1)
    idx = flat.argmax(axis=1)
    peak = flat[rows, idx]
    x, y = idx % w, idx // w
    maps = flat.reshape(n * k, h, w)
    dx = maps[rows, y, np.minimum(x + 1, w - 1)] - maps[rows, y, np.maximum(x - 1, 0)]
    dy = maps[rows, np.minimum(y + 1, h - 1), x] - maps[rows, np.maximum(y - 1, 0), x]
    gap = peak - np.minimum(top2[:, 0], top2[:, 1])
    margin = np.minimum.reduce([gap, np.abs(peak), np.abs(dx), np.abs(dy)])
    return margin.reshape(n, k)


@dataclass
class PoseOutput:
    """Heatmaps (N, K, h, w), keypoints (N, K, 2) in image pixels and their scores (N, K)."""

    heatmaps: np.ndarray
    keypoints: np.ndarray
    scores: np.ndarray


def compare_pose(reference: PoseOutput, other: PoseOutput, tolerance: float) -> tuple[bool, str]:
    """Heatmaps within ``tolerance`` (relative to max |reference|) and every decided keypoint identical."""
    if reference.heatmaps.shape != other.heatmaps.shape or reference.keypoints.shape != other.keypoints.shape:
        return False, f"shapes differ: {reference.heatmaps.shape} vs {other.heatmaps.shape}"
    diff, relative = heatmap_error(reference.heatmaps, other.heatmaps)
    decided = decision_margin(reference.heatmaps) > 2 * diff
    move = np.linalg.norm(other.keypoints.astype(np.float64) - reference.keypoints, axis=-1)
    moved = move > 1e-4
    wrong = int((decided & moved).sum())
    ties = ~decided
    tie_move = float(move[ties].max(initial=0.0))
    passed = relative <= tolerance and wrong == 0
    detail = (
        f"heatmaps max|d|/max|ref| {relative:.1e} (tol {tolerance:.0e}); keypoints {int(decided.sum())}/"
        f"{decided.size} decided, {wrong} of them moved; {int(ties.sum())} near-ties, {int((ties & moved).sum())} "
        f"moved (max {tie_move:.1f} px)"
    )
    return passed, detail


def compare_raw_detections(reference: torch.Tensor, other: torch.Tensor, tolerance: Tolerance) -> tuple[bool, str]:
    """Raw (N, anchors, 5 + C) predictions: boxes relative to 1 + |value|, objectness and class scores absolute."""
    if reference.shape != other.shape:
        return False, f"shapes differ: {tuple(reference.shape)} vs {tuple(other.shape)}"
    ref, got = reference.double().cpu(), other.double().cpu()
    box = float(((got[..., :4] - ref[..., :4]).abs() / (1 + ref[..., :4].abs())).max())
    score = float((got[..., 4:] - ref[..., 4:]).abs().max())
    passed = box <= tolerance.box and score <= tolerance.score
    return passed, f"raw boxes {box:.1e} (tol {tolerance.box:.0e}), scores {score:.1e} (tol {tolerance.score:.0e})"


def same_detections(a: Sequence[Any], b: Sequence[Any]) -> bool:
    """Whether two lists of Detections hold identical boxes and scores."""
    return len(a) == len(b) and all(
        np.array_equal(x.boxes, y.boxes) and np.array_equal(x.scores, y.scores) for x, y in zip(a, b, strict=True)
    )


def matched_boxes(reference: Sequence[Any], other: Sequence[Any], pixels: float = 1.0) -> tuple[int, int]:
    """(reference boxes with a box of ``other`` in the same frame within ``pixels`` on every side, all of them)."""
    found = total = 0
    for ref, got in zip(reference, other, strict=True):
        total += len(ref)
        if len(ref) and len(got):
            gap = np.abs(ref.boxes[:, None, :].astype(np.float64) - got.boxes[None, :, :]).max(axis=2)
            found += int((gap.min(axis=1) <= pixels).sum())
    return found, total


# ---------------------------------------------------------------------------------------------------------
# Running the library on a device


@contextmanager
def precision_mode(precision: str) -> Iterator[bool]:
    """TF32 on only for ``tf32``; yields whether autocast fp16 (``half``) is wanted. Restores the flags."""
    if precision not in TOLERANCES:
        raise ValueError(f"unknown precision {precision!r}; choose one of {', '.join(TOLERANCES)}")
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = precision == "tf32"
    try:
        yield precision == "fp16"
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def seeded_pose_model(config: str, seed: int = 0) -> tuple[Any, torch.nn.Module]:
    """(cfg, the config's network with seeded random weights, on CPU, channels_last as the pipeline runs it)."""
    from alphapose_kit.config import load_config
    from alphapose_kit.models.loader import load_pose_model

    cfg = load_config(config)
    torch.manual_seed(seed)
    model = load_pose_model(cfg, device="cpu")
    return cfg, model.to(memory_format=torch.channels_last)


def pose_inputs(count: int, size: Sequence[int], seed: int = 0) -> tuple[torch.Tensor, np.ndarray]:
    """``count`` normalised random crops (N, 3, H, W) and crop boxes (x1, y1, x2, y2) of the crops' aspect ratio."""
    gen = torch.Generator().manual_seed(seed)
    height, width = int(size[0]), int(size[1])
    crops = torch.rand(count, 3, height, width, generator=gen) - 0.45
    rng = np.random.default_rng(seed)
    widths = rng.uniform(60, 200, count)
    corners = rng.uniform(0, 300, (count, 2))
    boxes = np.column_stack([corners, corners[:, 0] + widths, corners[:, 1] + widths * height / width])
    return crops, boxes.astype(np.float32)


def run_pose(
    model: torch.nn.Module, cfg: Any, device: torch.device, crops: torch.Tensor, boxes: np.ndarray, half: bool
) -> PoseOutput:
    """Heatmaps and keypoints through the pipeline's own pose stage (PoseEstimator)."""
    from alphapose_kit.engine.estimator import PoseEstimator

    estimator = PoseEstimator(model, cfg, (), device, flip=False, batch=len(crops), half=half)
    heatmaps = estimator.heatmaps(estimator.to_device(crops))
    keypoints, scores = estimator.decode(heatmaps, boxes)
    return PoseOutput(heatmaps.cpu().numpy(), keypoints, scores)


class Replay(torch.nn.Module):
    """A "network" that returns a stored prediction: CPU post-processing of another device's raw output."""

    def __init__(self, prediction: torch.Tensor) -> None:
        super().__init__()
        self.prediction = prediction

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] != self.prediction.shape[0]:
            raise ValueError(f"replay holds {self.prediction.shape[0]} frames, asked for {x.shape[0]}")
        return self.prediction


def seeded_detector_network(name: str, seed: int = 0) -> torch.nn.Module:
    """The detector's network with seeded random weights and prediction biases that favour people.

    The prediction convolutions' biases are zeroed (objectness near 0.5 instead of YOLOv5's low prior) and the
    person logit raised by 4, so that person wins the class argmax, as it does for trained weights on people.
    """
    from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp
    from alphapose_kit.detectors.nets.yolov5 import build_yolov5

    torch.manual_seed(seed)
    model = build_yolov3_spp() if name == "yolov3-spp" else build_yolov5(name.removeprefix("yolov5"))
    per_anchor = 5 + 80
    with torch.no_grad():
        for conv in model.modules():
            if isinstance(conv, torch.nn.Conv2d) and conv.bias is not None and conv.out_channels == 3 * per_anchor:
                conv.bias.zero_()
                conv.bias.view(3, per_anchor)[:, 5] += 4.0
    return model


def make_detector(network: torch.nn.Module, name: str, device: torch.device, half: bool, **settings: Any) -> Any:
    """A YOLODetector with akit's defaults for ``name``, all frames in one forward."""
    from alphapose_kit.detectors import YOLODetector, detector_defaults

    options = detector_defaults(name) | {"half": half} | settings
    return YOLODetector(network, device=device, **options)


def person_conf(prediction: torch.Tensor, score: str, candidates: int = 200) -> float:
    """A confidence threshold that lets about ``candidates`` person boxes per frame through (random weights)."""
    person = prediction[..., 4] if score == "objectness" else prediction[..., 4] * prediction[..., 5]
    person = torch.where(prediction[..., 5:].argmax(-1) == 0, person, -1.0)  # the class the detector keeps
    k = min(candidates, person.shape[1])
    return float(person.topk(k, dim=1).values[:, -1].min().clamp(0.0, 0.99))


def check_detector(
    name: str,
    frames: Sequence[np.ndarray],
    reference_device: torch.device,
    device: torch.device,
    precisions: Sequence[str],
    input_size: int | None = None,
) -> list[Check]:
    """Raw predictions and final boxes of ``name`` on ``device`` against ``reference_device`` (fp32)."""
    network = seeded_detector_network(name)
    sizing = {"batch_size": len(frames)} | ({"input_size": input_size} if input_size else {})
    reference = make_detector(copy.deepcopy(network), name, reference_device, False, **sizing)
    raw_ref = reference.forward(frames)
    conf = person_conf(raw_ref, reference.score)
    reference.conf = conf
    boxes_ref = reference(frames)

    def one(precision: str) -> list[Check]:
        with precision_mode(precision) as half:
            detector = make_detector(copy.deepcopy(network), name, device, half, conf=conf, **sizing)
            raw = detector.forward(frames)
            boxes = detector(frames)
        passed, detail = compare_raw_detections(raw_ref, raw, TOLERANCES[precision])
        replay = make_detector(Replay(raw.cpu()), name, torch.device("cpu"), False, conf=conf, **sizing)
        replayed = same_detections(boxes, replay(frames))
        found, total = matched_boxes(boxes_ref, boxes)
        detail += (
            f"; final boxes {'equal' if replayed else 'DIFFER from'} CPU post-processing of its predictions; "
            f"{found}/{total} reference boxes found within 1 px (conf {conf:.3g})"
        )
        return [Check(f"detector {name} {precision}", passed and replayed, detail)]

    return [c for p in precisions for c in guarded(f"detector {name} {p}", partial(one, p))]


def check_pose_family(
    label: str,
    config: str,
    reference_device: torch.device,
    device: torch.device,
    precisions: Sequence[str],
    count: int = 8,
) -> list[Check]:
    """Heatmaps and keypoints of one pose family on ``device`` against ``reference_device`` (fp32)."""
    cfg, model = seeded_pose_model(config)
    crops, boxes = pose_inputs(count, cfg.DATA_PRESET.IMAGE_SIZE)
    reference = run_pose(model.to(reference_device), cfg, reference_device, crops, boxes, half=False)
    other = copy.deepcopy(model).to(device)

    def one(precision: str) -> list[Check]:
        with precision_mode(precision) as half:
            output = run_pose(other, cfg, device, crops, boxes, half=half)
        passed, detail = compare_pose(reference, output, TOLERANCES[precision].heatmap)
        return [Check(f"pose {label} {precision}", passed, detail)]

    return [c for p in precisions for c in guarded(f"pose {label} {p}", partial(one, p))]


def run_pipeline(
    model: torch.nn.Module, cfg: Any, device: torch.device, half: bool, images: Path, detfile: Path
) -> PoseOutput:
    """PosePipeline (pose NMS off) over ``images`` with ``detfile``'s boxes: heatmaps (hooked), keypoints, scores."""
    from alphapose_kit.engine.predictor import PosePipeline

    pipeline = PosePipeline(cfg, pose_model=model, device=str(device), half=half, detfile=str(detfile), pose_nms="none")
    captured: list[np.ndarray] = []
    hook = pipeline.model.register_forward_hook(lambda _m, _i, out: captured.append(out.detach().float().cpu().numpy()))
    try:
        results = list(pipeline.run(images))
    finally:
        hook.remove()
    k = pipeline.keypoint_set.num_joints
    keypoints = np.concatenate([r.keypoints for r in results]) if results else np.zeros((0, k, 2), np.float32)
    scores = np.concatenate([r.keypoint_scores for r in results]) if results else np.zeros((0, k), np.float32)
    heatmaps = np.concatenate(captured) if captured else np.zeros((0, k, 1, 1), np.float32)
    return PoseOutput(heatmaps, keypoints, scores)


def check_pipeline(
    data: Path, reference_device: torch.device, device: torch.device, precisions: Sequence[str]
) -> list[Check]:
    """The pipeline on the COCO images with their detection file, ``device`` against ``reference_device``."""
    images, detfile = data / "coco", data / "coco" / "person_detections.json"
    if not detfile.is_file():
        return [Check("pipeline", False, f"no {detfile}: pass --data (the folder holding coco/ and video/)")]
    cfg, model = seeded_pose_model(PIPELINE_CONFIG)
    reference = run_pipeline(model.to(reference_device), cfg, reference_device, False, images, detfile)
    other = copy.deepcopy(model).to(device)

    def one(precision: str) -> list[Check]:
        with precision_mode(precision) as half:
            output = run_pipeline(other, cfg, device, half, images, detfile)
        passed, detail = compare_pose(reference, output, TOLERANCES[precision].heatmap)
        people = len(reference.keypoints)
        return [Check(f"pipeline {PIPELINE_CONFIG} {precision}", passed, f"{people} people; {detail}")]

    return [c for p in precisions for c in guarded(f"pipeline {PIPELINE_CONFIG} {p}", partial(one, p))]


def detector_frames(data: Path, count: int = 4) -> tuple[list[np.ndarray], str]:
    """Up to ``count`` COCO images (BGR), or seeded noise frames when the data is missing."""
    import cv2

    paths = sorted((data / "coco").glob("*.jpg"))[:count]
    frames = [image for image in (cv2.imread(str(p)) for p in paths) if image is not None]
    if frames:
        return frames, f"{len(frames)} COCO images"
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(count)], f"{count} noise frames"


def run_bench(video: Path, frames: int, half: bool, timeout: float) -> Check:
    """scripts/bench_infer.py on CUDA (YOLOv5s + FastPose-R50); its output is printed as it is."""
    import alphapose_kit

    name = f"bench_infer yolov5s + fastpose_res50 {'fp16' if half else 'fp32'}"
    if not video.is_file():
        return Check(name, False, f"no {video}: pass --data (the folder holding coco/ and video/)")
    package_root = str(Path(alphapose_kit.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    command = [sys.executable, str(REPO / "scripts" / "bench_infer.py"), "--device", "cuda", "--detector", "yolov5s",
               "--config", "coco/fastpose_res50_256x192", "--frames", str(frames), "--video", str(video)]  # fmt: skip
    if half:
        command.append("--half")
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return Check(name, False, f"did not finish in {timeout:.0f} s")
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        return Check(name, False, f"exit {result.returncode}: {last}")
    return Check(name, True, f"{frames} frames in {time.perf_counter() - start:.0f} s (table above)")


# ---------------------------------------------------------------------------------------------------------
# Main


def find_data(explicit: Path | None) -> Path:
    """``--data``, else the first shared data folder that exists (else the first candidate, reported missing)."""
    if explicit is not None:
        return explicit
    return next((p for p in DATA_CANDIDATES if p.is_dir()), DATA_CANDIDATES[0])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=None, help="folder holding coco/ and video/ (the shared data)")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--crops", type=int, default=8, help="crops per pose family")
    parser.add_argument("--bench-frames", type=int, default=200)
    parser.add_argument("--bench-timeout", type=float, default=120.0, help="seconds per benchmark run")
    parser.add_argument("--skip-bench", action="store_true")
    args = parser.parse_args(argv)

    if not torch.cuda.is_available():
        cuda = torch.version.cuda or "none"
        print(f"gpu_check: no CUDA device here (torch {torch.__version__}, CUDA build {cuda}); nothing checked",
              file=sys.stderr)  # fmt: skip
        return 2
    try:
        import alphapose_kit.engine.predictor  # noqa: F401  (its dependencies: yacs, cv2, torchvision)
        from alphapose_kit.errors import AkitError
        from alphapose_kit.utils.device import resolve_device
    except ImportError as exc:
        print(f"gpu_check: cannot import alphapose_kit ({exc}); install it or run with PYTHONPATH=.", file=sys.stderr)
        return 3
    try:
        device = resolve_device(args.device)
    except AkitError as exc:
        print(f"gpu_check: {exc}", file=sys.stderr)
        return 2
    cpu = torch.device("cpu")
    data = find_data(args.data)
    start = time.perf_counter()
    props = torch.cuda.get_device_properties(device)
    print(f"# akit GPU check: {props.name} ({device}, {props.total_memory / 2**30:.0f} GiB), torch {torch.__version__},"
          f" CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}, data {data}")  # fmt: skip
    for precision, tol in TOLERANCES.items():
        print(f"# {precision}: heatmaps {tol.heatmap:.0e}, raw boxes {tol.box:.0e}, raw scores {tol.score:.0e}")

    checks: list[Check] = []

    def report(new: list[Check]) -> None:
        for check in new:
            print(check.line(), flush=True)
        checks.extend(new)

    every = tuple(TOLERANCES)
    for label, config in POSE_FAMILIES:
        report(guarded(f"pose {label}", partial(check_pose_family, label, config, cpu, device, every, args.crops)))
    frames, what = detector_frames(data)
    print(f"# detectors on {what}")
    for name in DETECTORS:
        report(guarded(f"detector {name}", partial(check_detector, name, frames, cpu, device, every)))
    report(guarded("pipeline", partial(check_pipeline, data, cpu, device, every)))
    if not args.skip_bench:
        video = data / "video" / "people_walking.mp4"
        for half in (False, True):
            report([run_bench(video, args.bench_frames, half, args.bench_timeout)])

    failed = [c for c in checks if not c.passed]
    seconds = time.perf_counter() - start
    print(f"summary: {len(checks) - len(failed)} passed, {len(failed)} failed in {seconds:.0f} s on {props.name}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
