"""``akit infer --int8``: the run's pose network as an ONNX Runtime INT8 model, exported on first use and reused.

The model is made by ``akit export --int8``'s own code (:func:`~alphapose_kit.deploy.exporters.export_pose`),
calibrated on person crops from the source itself (its first frames, people found by the run's detector or detection
file) or from ``calib``, and checked against fp32 on held-out crops as ``akit export`` checks. It is cached in
``$AKIT_HOME/exports/<key>.onnx`` with a JSON record beside it; the key hashes the weights file, the resolved config
text and the export settings, so a changed file or setting exports again. The record holds the model file's sha256:
a truncated or corrupt entry fails that check and is rebuilt. A lock file per key keeps two processes from exporting
the same entry at once (the second waits, then reuses the first one's model).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from alphapose_kit import __version__
from alphapose_kit.config import dump_config, load_config
from alphapose_kit.deploy.calibration import is_coco_file, make_detector
from alphapose_kit.deploy.exporters import export_pose
from alphapose_kit.deploy.int8 import report_path_for
from alphapose_kit.deploy.onnx_export import DEFAULT_OPSET
from alphapose_kit.deploy.quantize import Int8Options
from alphapose_kit.errors import AkitError
from alphapose_kit.hub.download import file_sha256
from alphapose_kit.hub.zoo import akit_home, resolve_weights
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.utils.logging import get_logger

log = get_logger("deploy")

__all__ = ["INFER_INT8", "Int8Models", "cache_folder", "int8_models"]

#: What ``akit infer --int8`` exports with: ``akit export --int8``'s calibration, no latency table (not printed).
INFER_INT8 = Int8Options(bench_rounds=0)
RECORD_SUFFIX = ".json"
LOCK_SUFFIX = ".lock"


@dataclass(frozen=True)
class Int8Models:
    """The INT8 models of a run: ``--pose-model`` (backend onnxruntime) and ``--detector-model`` (None: unchanged)."""

    pose: Path
    detector: Path | None = None


def cache_folder() -> Path:
    """Where ``--int8`` keeps its exports: ``$AKIT_HOME/exports``."""
    return akit_home() / "exports"


def _settings(cfg: CfgNode, options: Int8Options, opset: int, calib: str | Path | None) -> dict[str, Any]:
    """The export settings a cached model depends on (besides the weights and the config text)."""
    return {
        "opset": opset,
        "input_size": [int(side) for side in cfg.DATA_PRESET.IMAGE_SIZE],
        "calib_method": options.method,
        "calib_size": options.calib_size,
        "held_out": options.held_out,
        "per_channel": options.per_channel,
        "keep_fp32": list(options.keep_fp32),
        "min_agreement": options.min_agreement,
        "percentile": options.percentile,
        "calib": str(Path(calib).resolve()) if calib is not None else "source",
        "akit": __version__,
    }


def cache_key(weights_sha256: str, config_text: str, settings: dict[str, Any]) -> str:
    """The entry's name: sha256 of the weights' hash, the resolved config text and the settings (first 32 hex)."""
    material = json.dumps({"weights": weights_sha256, "config": config_text, "settings": settings}, sort_keys=True)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _record_path(model: Path) -> Path:
    return model.with_suffix(RECORD_SUFFIX)


def _is_valid(model: Path, key: str) -> bool:
    """Whether ``model`` and its record form a whole entry: the record names this key and the model's sha256."""
    try:
        record = json.loads(_record_path(model).read_text(encoding="utf-8"))
        return (
            isinstance(record, dict) and record.get("key") == key and record.get("model_sha256") == file_sha256(model)
        )
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (created if missing), across threads and processes; none on Windows."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        handle = open(path, "a+b")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise AkitError(f"cannot write {path} ({exc.strerror or exc}); set AKIT_HOME to a writable folder") from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_leftovers(model: Path) -> None:
    """Temporary files of ``model``'s entry left by a killed export (only the lock holder writes them)."""
    for stale in model.parent.glob(f".{model.stem}.*"):
        if stale.suffix != LOCK_SUFFIX:
            stale.unlink(missing_ok=True)


def _calibration_detector(
    chosen: str | Path, detector: str | None, detector_weights: str | None, detfile: str | None, device: str
) -> Any:
    """What finds the people to crop in ``chosen``: none for a COCO file, else the run's detection file or detector."""
    if is_coco_file(Path(chosen)):
        return None
    from alphapose_kit.engine.options import DEFAULT_DETECTOR

    return make_detector(detector or DEFAULT_DETECTOR, detector_weights, detfile, device)


def int8_models(
    config: str | Path | CfgNode,
    checkpoint: str | Path | None,
    source: str | Path,
    *,
    detector: str | None = None,
    detector_weights: str | None = None,
    detfile: str | None = None,
    calib: str | Path | None = None,
    device: str = "cpu",
    opts: Sequence[str] = (),
    options: Int8Options | None = None,
    opset: int = DEFAULT_OPSET,
) -> Int8Models:
    """The INT8 models ``akit infer --int8`` runs (``--backend onnxruntime --pose-model``), from the cache or exported
    now, calibrated on ``source``'s people (or ``calib``'s) and checked against fp32.

    ``detector`` / ``detector_weights`` / ``detfile`` find the people to calibrate on (the run's own, so the crops are
    those the pipeline will see); ``device`` runs that detector. Fails in one line when the INT8 model disagrees with
    fp32, saying to run without ``--int8``. The detector stays the run's own (``Int8Models.detector`` is None).
    """
    options = options or INFER_INT8
    options.validate()
    if checkpoint is None:
        raise AkitError("--int8 exports trained weights: pass --checkpoint (a file or zoo name)")
    cfg = load_config(config, opts)
    weights = resolve_weights(checkpoint, kind="pose")
    settings = _settings(cfg, options, opset, calib)
    weights_sha256 = file_sha256(weights)
    key = cache_key(weights_sha256, dump_config(cfg), settings)
    folder = cache_folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AkitError(f"cannot create {folder} ({exc.strerror or exc}); set AKIT_HOME to a writable folder") from None
    model = folder / f"pose-{key}.onnx"
    with _locked(folder / f".pose-{key}{LOCK_SUFFIX}"):
        if _is_valid(model, key):
            log.info("INT8 pose model from the cache: %s", model)
            return Int8Models(pose=model)
        if model.exists() or _record_path(model).exists():
            log.warning("the cached INT8 pose model %s is incomplete or corrupt; exporting it again", model.name)
        _remove_leftovers(model)
        chosen = calib if calib is not None else source
        finder = _calibration_detector(chosen, detector, detector_weights, detfile, device)
        record = {"key": key, "weights": str(weights), "weights_sha256": weights_sha256, "settings": settings}
        _export(cfg, weights, chosen, finder, model, record, options, opset)
    return Int8Models(pose=model)


def _export(
    cfg: CfgNode,
    weights: Path,
    chosen: str | Path,
    finder: Any,
    model: Path,
    record: dict[str, Any],
    options: Int8Options,
    opset: int,
) -> None:
    """Export the INT8 model under a unique temporary name, check it, then move it to ``model`` and write its record
    (model first: an entry whose record is missing or stale is rebuilt); ``record`` gets the model's sha256."""
    log.info("exporting the INT8 pose model (first use), calibrated on the people of %s", chosen)
    tmp = model.with_name(f".{model.stem}.{os.getpid()}.{uuid.uuid4().hex[:8]}{model.suffix}")
    report = report_path_for(tmp)
    try:
        result = export_pose(
            cfg, weights, output=tmp, opset=opset, int8=dataclasses.replace(options, min_agreement=0.0), calib=chosen,
            detector=finder, exist_ok=True,
        )  # fmt: skip
        agreement = result.comparison.agreement
        if agreement < options.min_agreement:
            raise AkitError(
                f"the INT8 pose model disagrees with fp32 on the people of {chosen} (keypoint agreement "
                f"{100 * agreement:.2f} % < {100 * options.min_agreement:.0f} %); run without --int8"
            )
        os.replace(tmp, model)
        os.replace(report, report_path_for(model))
    finally:
        tmp.unlink(missing_ok=True)
        report.unlink(missing_ok=True)
    written = {
        **record,
        "model_sha256": file_sha256(model),
        "config_sha256": hashlib.sha256(dump_config(cfg).encode("utf-8")).hexdigest(),
        "calibration_source": str(chosen),
        "int8_vs_fp32": result.comparison.as_dict(),
    }
    atomic_write_text(_record_path(model), json.dumps(written, indent=2) + "\n")
    log.info("INT8 pose model cached at %s (%s)", model, result.comparison.line())
