"""``run.json``: what a run of ``akit infer`` looked at (source, frame rate, frame count, size, model with its
keypoint set's definition, options) and how it ended, so later steps (``akit analyze``, ``akit eval``) know the time
base and the joints. Written atomically beside ``alphapose-results.json`` when the run starts (``status``
``running``) and again when it ends (``done``, ``interrupted`` or ``failed``): a run killed with ``kill -9`` is left
``running``, which readers take as unfinished.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from alphapose_kit.data.keypoints import KeypointSet, keypoint_set_from_record, keypoint_set_record
from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text

RUN_INFO_NAME = "run.json"
RUNNING, DONE, INTERRUPTED, FAILED = "running", "done", "interrupted", "failed"


def write_run_info(
    outdir: str | Path,
    *,
    source: str,
    fps: float | None,
    frames: int,
    size: tuple[int, int] | None,
    model: dict[str, Any],
    options: Any = None,
    status: str = DONE,
) -> Path:
    """Write ``outdir/run.json``. ``fps`` None or 0 (still images) is stored as null; ``size`` is (width, height);
    ``model`` e.g. {"config", "checkpoint", "keypoint_set"} (a KeypointSet is stored as its full definition);
    ``options`` a dataclass (InferOptions), dict or object; ``status`` one of running, done, interrupted, failed.
    """
    if dataclasses.is_dataclass(options) and not isinstance(options, type):
        options = dataclasses.asdict(options)
    elif options is not None and not isinstance(options, dict):
        options = vars(options)
    info = {
        "status": status,
        "source": str(source),
        "fps": float(fps) if fps else None,
        "frames": int(frames),
        "width": int(size[0]) if size else None,
        "height": int(size[1]) if size else None,
        "model": {k: _jsonable(v) for k, v in model.items()},
        "options": options or {},
    }
    path = Path(outdir) / RUN_INFO_NAME
    atomic_write_text(path, iter([json.dumps(info, indent=2, default=str) + "\n"]))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, KeypointSet):
        return keypoint_set_record(value)
    return str(value) if isinstance(value, Path) else value


def run_status(info: dict[str, Any]) -> str:
    """How the run ended: running (unfinished: killed, or still going), done, interrupted or failed. A run.json
    written before akit recorded a status is a finished run's."""
    return str(info.get("status", DONE))


def run_keypoint_set(info: dict[str, Any]) -> KeypointSet | str | None:
    """The keypoint set run.json records: its definition (so a custom set needs no registration), or a bare name
    (run.json of older akit versions), or None."""
    entry = (info.get("model") or {}).get("keypoint_set")
    if isinstance(entry, dict):
        try:
            return keypoint_set_from_record(entry)
        except (KeyError, TypeError, ValueError) as exc:
            raise AkitError(f"run.json: the keypoint set is not a valid definition ({exc!r})") from None
    return str(entry) if entry else None


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
