"""The files of a training run folder besides the checkpoints: ``config.yaml`` (the resolved config),
``manifest.json`` (what produced the run), ``metrics.csv`` (one row per epoch) and ``curves.png``. Each is
written atomically (temporary file, then rename)."""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from alphapose_kit.config import dump_config
from alphapose_kit.io.atomic import atomic_write_bytes, atomic_write_text
from alphapose_kit.utils.hashing import file_sha256

CONFIG_NAME = "config.yaml"
MANIFEST_NAME = "manifest.json"
METRICS_NAME = "metrics.csv"
CURVES_NAME = "curves.png"
METRIC_COLUMNS = ("epoch", "lr", "loss", "accuracy", "AP", "AP_det", "seconds")


def versions() -> dict[str, str]:
    """Versions of Python, akit and the libraries that change numbers."""
    import cv2
    import numpy
    import torch
    import torchvision

    from alphapose_kit import __version__

    return {
        "python": platform.python_version(),
        "akit": __version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "numpy": numpy.__version__,
        "opencv": cv2.__version__,
        "platform": platform.platform(),
    }


def write_config(run_dir: Path, cfg: CfgNode) -> None:
    """``config.yaml``: the resolved config the run trains with."""
    atomic_write_text(run_dir / CONFIG_NAME, iter([dump_config(cfg)]))


def write_manifest(run_dir: Path, entries: Mapping[str, Any], datasets: Mapping[str, Path | None]) -> None:
    """``manifest.json``: seed, versions, command line, dataset file hashes and ``entries``; a resumed run adds a
    ``resumes`` record to the existing manifest instead of replacing it."""
    path = run_dir / MANIFEST_NAME
    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    record = {
        "command": [Path(sys.argv[0]).name, *sys.argv[1:]],
        "cwd": os.getcwd(),
        "time": now,
        "versions": versions(),
        "datasets": {
            name: {"path": str(p), "sha256": file_sha256(p)} for name, p in datasets.items() if p and Path(p).is_file()
        },
        **entries,
    }
    if path.is_file():
        manifest = json.loads(path.read_text())
        manifest.setdefault("resumes", []).append(record)
    else:
        manifest = record
    atomic_write_text(path, iter([json.dumps(manifest, indent=2, default=str) + "\n"]))


def write_metrics(run_dir: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """``metrics.csv`` with every epoch so far (blank cells for epochs without validation)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=METRIC_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row[k]) for k in METRIC_COLUMNS})
    atomic_write_text(run_dir / METRICS_NAME, iter([buffer.getvalue()]))


def read_metrics(run_dir: Path) -> list[dict[str, Any]]:
    """The rows of ``metrics.csv`` (numbers as float, ``epoch`` as int, blanks as None); [] when absent."""
    path = run_dir / METRICS_NAME
    if not path.is_file():
        return []
    rows = []
    with path.open(newline="") as handle:
        for raw in csv.DictReader(handle):
            row: dict[str, Any] = {k: (float(v) if v not in ("", None) else None) for k, v in raw.items()}
            row["epoch"] = int(raw["epoch"])
            rows.append(row)
    return rows


def plot_curves(run_dir: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """``curves.png``: loss, training accuracy and validation AP against the epoch."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
    axes[0].plot(epochs, [r["loss"] for r in rows], marker=".")
    axes[0].set(title="training loss", xlabel="epoch", yscale="log")
    axes[1].plot(epochs, [r["accuracy"] for r in rows], marker=".")
    axes[1].set(title="training accuracy", xlabel="epoch", ylim=(0, 1))
    for key, label in (("AP", "GT boxes"), ("AP_det", "detected boxes")):
        points = [(r["epoch"], r[key]) for r in rows if r.get(key) is not None]
        if points:
            axes[2].plot(*zip(*points, strict=True), marker="o", label=label)
    axes[2].set(title="validation AP", xlabel="epoch", ylim=(0, 1))
    if axes[2].lines:
        axes[2].legend()
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    atomic_write_bytes(run_dir / CURVES_NAME, buffer.getvalue())
