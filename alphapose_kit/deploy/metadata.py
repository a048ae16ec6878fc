"""What an exported model carries about itself (input size, normalisation, keypoint set, flip pairs, config, akit
version), so that ``akit infer`` and ``akit bench`` need no config for it.

The metadata is one JSON object: stored under the key ``akit`` of an ONNX model's ``metadata_props`` and as the
extra file ``akit.json`` inside a TorchScript archive. It is read back without loading the network.
"""

from __future__ import annotations

import dataclasses
import json
import zipfile
from pathlib import Path
from typing import Any

from yacs.config import CfgNode

from alphapose_kit.config import dump_config, load_config, loss_type
from alphapose_kit.data.keypoints import KeypointSet, get_keypoint_set, keypoint_set_of, register_keypoint_set
from alphapose_kit.data.transforms import PIXEL_MEANS_RGB
from alphapose_kit.errors import AkitError

METADATA_KEY = "akit"  # ONNX metadata_props key
EXTRA_FILE = "akit.json"  # TorchScript extra file
FORMAT_VERSION = 1
POSE_INPUT, POSE_OUTPUT = "input", "heatmaps"
DETECTOR_INPUT, DETECTOR_OUTPUT = "images", "predictions"


def _akit_version() -> str:
    from alphapose_kit import __version__

    return __version__


def _keypoint_set_record(keypoint_set: KeypointSet) -> dict[str, Any]:
    record = dataclasses.asdict(keypoint_set)
    record.pop("dataset_types", None)
    return json.loads(json.dumps(record))  # tuples -> lists, as the file gives them back


def pose_metadata(cfg: CfgNode, *, precision: str, fmt: str, dynamic_batch: bool, **extra: Any) -> dict[str, Any]:
    """The metadata of an exported pose network built from ``cfg`` (``extra`` adds e.g. opset, int8 settings)."""
    from alphapose_kit.models.loader import model_name

    preset = cfg.DATA_PRESET
    return {
        "format_version": FORMAT_VERSION,
        "kind": "pose",
        "akit_version": _akit_version(),
        "model": model_name(cfg),
        "format": fmt,
        "precision": precision,
        "dynamic_batch": dynamic_batch,
        "input_name": POSE_INPUT,
        "output_name": POSE_OUTPUT,
        "input_size": [int(v) for v in preset.IMAGE_SIZE],
        "heatmap_size": [int(v) for v in preset.HEATMAP_SIZE],
        "normalization": {"channels": "RGB", "scale": 1 / 255, "mean": list(PIXEL_MEANS_RGB), "std": [1, 1, 1]},
        "keypoint_set": _keypoint_set_record(keypoint_set_of(cfg)),
        "loss_type": loss_type(cfg),
        "norm_type": cfg.LOSS.NORM_TYPE or preset.NORM_TYPE or "sigmoid",
        "config": dump_config(cfg),
        **extra,
    }


def detector_metadata(
    name: str, input_size: int, settings: dict[str, Any], *, precision: str, fmt: str, dynamic_batch: bool, **extra: Any
) -> dict[str, Any]:
    """The metadata of an exported YOLO network: its akit name, letterbox side and post-processing settings."""
    return {
        "format_version": FORMAT_VERSION,
        "kind": "detector",
        "akit_version": _akit_version(),
        "model": name,
        "format": fmt,
        "precision": precision,
        "dynamic_batch": dynamic_batch,
        "input_name": DETECTOR_INPUT,
        "output_name": DETECTOR_OUTPUT,
        "input_size": [int(input_size), int(input_size)],
        "normalization": {"channels": "RGB", "scale": 1 / 255, "letterbox": "square, fill 128"},
        "detector_settings": {**settings, "input_size": int(input_size)},
        **extra,
    }


def to_json(metadata: dict[str, Any]) -> str:
    """The metadata as the JSON text stored in the file."""
    return json.dumps(metadata, sort_keys=True)


def embed_onnx(model: Any, metadata: dict[str, Any]) -> None:
    """Store ``metadata`` in an ``onnx.ModelProto`` (replacing any earlier akit entry)."""
    props = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    entry = model.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, to_json(metadata)
    model.producer_name = "alphapose-kit"
    model.producer_version = _akit_version()
    model.doc_string = f"{metadata.get('model', '')} exported by akit"


def _parse(text: str | bytes, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise AkitError(f"{path}: its akit metadata is not valid JSON") from None
    if not isinstance(data, dict) or data.get("kind") not in ("pose", "detector"):
        raise AkitError(f"{path}: its akit metadata has no model kind (pose or detector)")
    return data


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The akit metadata of an ONNX or TorchScript file, or None when it has none; the network is not loaded."""
    path = Path(path)
    if not path.is_file():
        raise AkitError(f"model file not found: {path}")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.endswith(f"/extra/{EXTRA_FILE}")]
            return _parse(archive.read(names[0]), path) if names else None
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # onnx raises DecodeError / ValueError / google.protobuf errors
        raise AkitError(f"{path}: not an ONNX or TorchScript file ({type(exc).__name__})") from None
    for prop in model.metadata_props:
        if prop.key == METADATA_KEY:
            return _parse(prop.value, path)
    return None


def keypoint_set_from_metadata(metadata: dict[str, Any]) -> KeypointSet:
    """The keypoint set an exported pose model predicts (registered under its name if not known yet)."""
    record = metadata["keypoint_set"]
    embedded = KeypointSet(
        name=record["name"],
        names=tuple(record["names"]),
        flip_pairs=tuple((int(a), int(b)) for a, b in record["flip_pairs"]),
        skeleton=tuple((int(a), int(b)) for a, b in record["skeleton"]),
        sigmas=tuple(record["sigmas"]),
        neck_from=(int(record["neck_from"][0]), int(record["neck_from"][1])) if record.get("neck_from") else None,
        upper_body=tuple(record.get("upper_body", ())),
        parts=tuple((str(name), tuple(int(i) for i in joints)) for name, joints in record.get("parts", ())),
    )
    try:
        known = get_keypoint_set(embedded.name)
    except AkitError:
        return register_keypoint_set(embedded)
    if known != embedded:
        raise AkitError(f"the model's keypoint set {embedded.name!r} differs from akit's set of that name")
    return known


def config_from_metadata(metadata: dict[str, Any]) -> CfgNode:
    """The pose config an exported model was made from, its keypoint set resolvable on this machine."""
    if metadata.get("kind") != "pose":
        raise AkitError(f"{metadata.get('model', 'the model')} is a {metadata.get('kind')} model, not a pose model")
    cfg = CfgNode.load_cfg(metadata["config"])
    cfg.DATA_PRESET.KEYPOINT_SET = keypoint_set_from_metadata(metadata).name
    return load_config(cfg)
