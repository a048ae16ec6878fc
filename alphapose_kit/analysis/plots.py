"""The PNG figures of the analyses, drawn off-screen with matplotlib's Agg canvas (no display, no global state)."""

from __future__ import annotations

import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

MAX_PANELS = 6  # tracks drawn per figure (the longest ones); the CSV / JSON hold all
MAX_POINTS = 4000  # samples per line: longer series are thinned for drawing only


def _thin(*arrays: np.ndarray) -> list[np.ndarray]:
    step = max(1, arrays[0].shape[0] // MAX_POINTS)
    return [a[::step] for a in arrays]


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return buf.getvalue()


def _panels(count: int, title: str) -> tuple[Figure, list]:
    n = max(1, min(count, MAX_PANELS))
    fig = Figure(figsize=(10, 2.6 * n), layout="tight")
    axes = fig.subplots(n, 1, squeeze=False)[:, 0].tolist()
    fig.suptitle(title)
    return fig, axes


def _time(frames: np.ndarray, fps: float | None) -> tuple[np.ndarray, str]:
    return (frames / fps, "time (s)") if fps else (frames.astype(float), "frame")


def angles_png(rows: list, fps: float | None) -> bytes:
    """One panel per track (``rows``: (track, {angle name: values})), every angle against time."""
    fig, axes = _panels(len(rows), "Joint angles")
    for ax, (track, angles) in zip(axes, rows, strict=False):
        x, label = _time(track.frames, fps)
        for name, values in angles.items():
            ax.plot(*_thin(x, values), label=name, linewidth=1)
        ax.set(title=f"person {track.track_id}", xlabel=label, ylabel="degrees")
        ax.legend(loc="upper right", fontsize=7, ncol=3)
    return _png(fig)


def reps_png(rows: list, fps: float, low: float, high: float) -> bytes:
    """One panel per track (``rows``: (track, signal, reps)): the signal, both thresholds, each rep's bottom."""
    fig, axes = _panels(len(rows), "Repetitions")
    for ax, (track, signal, reps) in zip(axes, rows, strict=False):
        x = track.frames / fps
        ax.plot(*_thin(x, signal), linewidth=1, color="tab:blue")
        ax.axhline(low, color="tab:red", linestyle="--", linewidth=0.8, label=f"down {low:g}")
        ax.axhline(high, color="tab:green", linestyle="--", linewidth=0.8, label=f"up {high:g}")
        ax.plot([r["bottom_s"] for r in reps], [r["bottom_angle"] for r in reps], "v", color="tab:red")
        ax.set(title=f"person {track.track_id}: {len(reps)} reps", xlabel="time (s)", ylabel="degrees")
        ax.legend(loc="lower right", fontsize=7)
    return _png(fig)


def compare_png(angles_a: dict[str, np.ndarray], angles_b: dict[str, np.ndarray], path: np.ndarray) -> bytes:
    """The angles of both movements along the DTW alignment (``path``: (steps, 2) sample indices), overlaid."""
    names = [n for n in angles_a if np.isfinite(angles_a[n]).any() and np.isfinite(angles_b[n]).any()]
    names = sorted(names, key=lambda n: -float(np.nanstd(angles_a[n])))[:4]
    fig, axes = _panels(len(names), "Aligned movements (DTW)")
    steps = np.arange(path.shape[0])
    for ax, name in zip(axes, names, strict=False):
        ax.plot(*_thin(steps, angles_a[name][path[:, 0]]), label="movement", linewidth=1.2)
        ax.plot(*_thin(steps, angles_b[name][path[:, 1]]), label="reference", linewidth=1.2, linestyle="--")
        ax.set(title=name, xlabel="alignment step", ylabel="degrees")
        ax.legend(loc="upper right", fontsize=7)
    return _png(fig)
