"""Which config a pose checkpoint runs with: its own stored config, the zoo's, or the one given, checked against it.

An akit training checkpoint (``engine/checkpoints.py``) stores the resolved YAML it was trained with under
``config``. Every command that takes weights runs that config when none is given, and refuses a given config that
builds another network or feeds it another input size: a model trained at 128x96 run at 256x192 gives keypoints
hundreds of pixels off without any error. Official AlphaPose checkpoints are bare state_dicts and carry no config.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import torch
from yacs.config import CfgNode

from alphapose_kit.errors import AkitError, ConfigError

__all__ = ["DEFAULT_CONFIG", "check_fits_checkpoint", "network_difference", "resolve_model_choice", "stored_config"]

DEFAULT_CONFIG = "coco/fastpose_res50_256x192"

# MODEL keys that name files or loading policy, not the network's layers
_NOT_ARCHITECTURE = frozenset({"PRETRAINED", "TRY_LOAD", "INIT_WEIGHTS", "PRETRAINED_LAYERS", "TRT"})
# Outside MODEL: what the network outputs and what its input and heatmaps are (the decoding depends on these)
_PRESET_KEYS = (
    "NUM_JOINTS", "NUM_JOINTS_DENSE", "IMAGE_SIZE", "HEATMAP_SIZE", "LOSS_TYPE", "NORM_TYPE", "KEYPOINT_SET",
)  # fmt: skip
_LOSS_KEYS = ("TYPE", "NORM_TYPE")


def stored_config(checkpoint: str | Path) -> CfgNode | None:
    """The config an akit checkpoint file was trained with, or None for a file without one (an official AlphaPose
    state_dict, a pruned export) or one that is not readable (the weights loader then says why)."""
    path = Path(checkpoint)
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        if handle.read(4) != b"PK\x03\x04":  # akit saves torch.save's zip archive; legacy pickles hold no config
            return None
    try:  # memory-mapped: only the small pickled index is read, not the tensors
        payload = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # a torn or foreign file: the strict loader reports it in its own words
        return None
    text = payload.get("config") if isinstance(payload, Mapping) else None
    if not isinstance(text, str):
        return None
    from alphapose_kit.config import load_config
    from alphapose_kit.config.schema import get_default_config

    cfg = get_default_config()
    try:
        cfg.merge_from_other_cfg(CfgNode.load_cfg(text))  # yacs refuses keys the schema does not know
        return load_config(cfg)
    except ConfigError as exc:
        raise ConfigError(f"{path}: its stored config is not valid ({exc})") from None
    except Exception as exc:  # not YAML, or an unknown key / a wrongly typed value (yacs' KeyError / ValueError)
        first = str(exc).strip(" '\"").splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: its stored config is not valid ({first})") from None


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, Mapping):
        for key in sorted(node):
            yield from _leaves(node[key], f"{prefix}.{key}")
    else:
        yield prefix, node


def _network_keys(cfg: CfgNode) -> Iterator[tuple[str, Any]]:
    """(dotted key, value) of everything that shapes the network or its input and output, in a fixed order."""
    for key in sorted(cfg.MODEL):
        if key not in _NOT_ARCHITECTURE:
            yield from _leaves(cfg.MODEL[key], f"MODEL.{key}")
    for key in _PRESET_KEYS:
        yield f"DATA_PRESET.{key}", cfg.DATA_PRESET[key]
    for key in _LOSS_KEYS:
        yield f"LOSS.{key}", cfg.LOSS[key]


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def network_difference(given: CfgNode, stored: CfgNode) -> tuple[str, Any, Any] | None:
    """The first network or input-size key on which two configs differ, as (key, given value, stored value)."""
    theirs = dict(_network_keys(stored))
    for key, value in _network_keys(given):
        if _plain(value) != _plain(theirs.get(key)):
            return key, _plain(value), _plain(theirs.get(key))
    return None


def check_fits_checkpoint(
    cfg: CfgNode, checkpoint: str | Path, label: str = "the config", stored: CfgNode | None = None
) -> None:
    """Refuse ``cfg`` for an akit checkpoint trained with another network or input size, naming the first key.

    ``stored``: the checkpoint's config when the caller has already read it (else it is read here)."""
    stored = stored if stored is not None else stored_config(checkpoint)
    if stored is None:
        return
    found = network_difference(cfg, stored)
    if found is not None:
        key, mine, theirs = found
        raise ConfigError(
            f"{label} does not match the config {checkpoint} was trained with: {key} is {mine} there but {theirs} "
            "in the checkpoint; leave out --cfg (and --opts on that key) to run the checkpoint's own config"
        )


def resolve_model_choice(config: str | Path | None, checkpoint: str | None) -> tuple[str | Path | CfgNode, str | None]:
    """Defaults as a user expects: an akit checkpoint implies its stored config (a given one must agree with it), a
    zoo name as --checkpoint implies its config, a zoo config implies its weights; else the default config."""
    from alphapose_kit.config import load_config, resolve_config_path
    from alphapose_kit.hub.zoo import config_path, list_models

    stored = stored_config(checkpoint) if checkpoint is not None else None
    if stored is not None:
        if config is None:
            return stored, checkpoint
        check_fits_checkpoint(load_config(config), str(checkpoint), f"config {config}", stored)
        return config, checkpoint
    zoo = {entry.name: entry for entry in list_models("pose")}
    if checkpoint in zoo and config is None:
        return config_path(zoo[checkpoint]), checkpoint
    config = config or DEFAULT_CONFIG
    load_config(config)  # a broken config is reported as such, before any question of weights
    if checkpoint is None:
        resolved = resolve_config_path(config).resolve()
        match = next((e for e in zoo.values() if e.urls and config_path(e).resolve() == resolved), None)
        if match is None:
            raise AkitError(f"no official weights for config {config}; pass --checkpoint FILE")
        checkpoint = match.name
    return config, checkpoint
