"""Benchmark ``akit train``'s input pipeline against its model step, measured in the same run.

- data loading: augmented training samples per second through the trainer's DataLoader (the config's augmentation,
  ``CocoKeypoints(train=True)``, the trainer's default worker count unless ``--workers``), first batch excluded
  (worker start-up);
- model step: samples per second of the trainer's own ``train_step`` (forward, loss, backward, optimiser step,
  accuracy) on batches already loaded.

``ratio = data rate / step rate``: the goal is >= 2, so the model never waits for data. Weights are random (speed
does not depend on them). The shared COCO people are sampled with replacement, so any number of batches can be read.

Usage: python scripts/bench_train.py [--config coco/fastpose_res50_256x192] [--ann A.json --images DIR] [--batch 8]
                                     [--batches 20] [--steps 3] [--workers N] [--device auto] [--opts KEY VALUE ...]
"""

from __future__ import annotations

import argparse
import platform
import tempfile
import time
from itertools import islice
from pathlib import Path

import torch
from torch.utils.data import DataLoader, RandomSampler

from alphapose_kit.config import load_config
from alphapose_kit.data.coco import CocoKeypoints
from alphapose_kit.engine.distributed import DistContext
from alphapose_kit.engine.trainer import Trainer, worker_count
from alphapose_kit.models.loader import model_name
from alphapose_kit.utils.device import resolve_device

COCO = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "coco"


def data_rate(dataset: CocoKeypoints, batch: int, batches: int, workers: int) -> tuple[float, list[dict]]:
    """Samples per second of the DataLoader after its first batch; also returns the batches read."""
    sampler = RandomSampler(dataset, replacement=True, num_samples=batch * (batches + 1))
    loader = DataLoader(dataset, batch_size=batch, sampler=sampler, num_workers=workers)
    iterator = iter(loader)
    kept = [next(iterator)]  # includes the workers' start-up: not timed
    start = time.perf_counter()
    kept.extend(islice(iterator, batches))
    return batch * batches / (time.perf_counter() - start), kept


def step_rate(trainer: Trainer, loaded: list[dict], steps: int) -> float:
    """Samples per second of ``Trainer.train_step`` on loaded batches (one untimed warm-up step)."""
    trainer.net.train()
    trainer.train_step(loaded[0], 1e-4, 0, 0)
    if trainer.ctx.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    samples = 0
    for i in range(steps):
        batch = loaded[1 + i % (len(loaded) - 1)]
        samples += trainer.train_step(batch, 1e-4, 0, i + 1)[2]
    if trainer.ctx.device.type == "cuda":
        torch.cuda.synchronize()
    return samples / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="coco/fastpose_res50_256x192")
    parser.add_argument("--ann", default=str(COCO / "person_keypoints.json"))
    parser.add_argument("--images", default=str(COCO))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=20, help="timed DataLoader batches")
    parser.add_argument("--steps", type=int, default=3, help="timed training steps")
    parser.add_argument("--workers", type=int, default=None, help="default: the trainer's (TRAIN.NUM_WORKERS)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--opts", nargs=argparse.REMAINDER, default=[])
    args = parser.parse_args(argv)

    cfg = load_config(args.config, args.opts)
    dataset = CocoKeypoints(args.ann, args.images, cfg, train=True)
    workers = worker_count(cfg) if args.workers is None else args.workers
    loading, loaded = data_rate(dataset, args.batch, max(args.batches, 1), workers)
    device = resolve_device(args.device)
    with tempfile.TemporaryDirectory() as run:
        trainer = Trainer(cfg, Path(run), dataset, DistContext(device), progress=False)
        stepping = step_rate(trainer, loaded, max(args.steps, 1))
    lines = [
        f"# {model_name(cfg)}, input {list(cfg.DATA_PRESET.IMAGE_SIZE)}, batch {args.batch}, {device} "
        f"({platform.processor() or platform.machine()}, torch {torch.__version__}, {torch.get_num_threads()} threads)",
        f"data loading: {loading:.1f} samples/s ({workers} workers, {args.batches} batches, configured augmentation)",
        f"model step:   {stepping:.1f} samples/s ({args.steps} steps of forward, loss, backward, optimiser step)",
        f"ratio data / model: {loading / stepping:.2f} (goal >= 2: the model never waits for data)",
    ]
    report = "\n".join(lines)
    print(report)
    return report


if __name__ == "__main__":
    main()
