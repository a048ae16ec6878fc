"""``run.json``: what a run of ``akit infer`` looked at (source, frame rate, frame count, size, model, options), so
later steps (``akit analyze``) know the time base. Written atomically beside ``alphapose-results.json``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text

RUN_INFO_NAME = "run.json"


def write_run_info(
    outdir: str | Path,
    *,
    source: str,
    fps: float | None,
    frames: int,
    size: tuple[int, int] | None,
    model: dict[str, Any],
    options: Any = None,
) -> Path:
    """Write ``outdir/run.json``. ``fps`` None or 0 (still images) is stored as null; ``size`` is (width, height);
    ``model`` e.g. {"config", "checkpoint", "keypoint_set"}; ``options`` a dataclass (InferOptions), dict or object.
    """
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        options = dataclasses.asdict(options)
    elif options is not None and not isinstance(options, dict):
        options = vars(options)
    info = {
        "source": str(source),
        "fps": float(fps) if fps else None,
        "frames": int(frames),
        "width": int(size[0]) if size else None,
        "height": int(size[1]) if size else None,
        "model": {k: (str(v) if isinstance(v, Path) else v) for k, v in model.items()},
        "options": options or {},
    }
    path = Path(outdir) / RUN_INFO_NAME
    atomic_write_text(path, iter([json.dumps(info, indent=2, default=str) + "\n"]))
    return path


def read_run_info(results: str | Path) -> dict[str, Any] | None:
    """The run.json beside a results file (or in a run folder); None when there is none."""
    results = Path(results)
    path = (results if results.is_dir() else results.parent) / RUN_INFO_NAME
    if not path.is_file():
        return None
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise AkitError(f"cannot read {path} ({exc})") from None
    if not isinstance(info, dict):
        raise AkitError(f"{path} is not a run.json object")
    return info
