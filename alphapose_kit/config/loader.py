"""Load configs: a YAML file or a shipped config name over the schema's defaults, then ``--opts`` overrides.

An unknown key is an error naming the key, the file and the closest valid key; the shipped YAML files are package
data (``alphapose_kit/configs``, the repository's ``configs/`` folder), read through :mod:`importlib.resources`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from yacs.config import CfgNode

from alphapose_kit.config.schema import get_default_config
from alphapose_kit.config.sizes import is_multiple_of_32
from alphapose_kit.errors import ConfigError


def _flatten_keys(node: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in node.items():
        full = f"{prefix}{key}"
        keys.append(full)
        if isinstance(value, Mapping):
            keys.extend(_flatten_keys(value, full + "."))
    return keys


def _closest_key(full_key: str, schema: CfgNode) -> str:
    """The valid key a typo most likely meant: among siblings first, then anywhere in the schema."""
    parent, _, leaf = full_key.rpartition(".")
    node: Any = schema
    for part in parent.split(".") if parent else []:
        node = node.get(part) if isinstance(node, Mapping) else None
    if isinstance(node, Mapping):
        match = difflib.get_close_matches(leaf, list(node.keys()), n=1, cutoff=0.5)
        if match:
            return f"{parent}.{match[0]}" if parent else match[0]
    match = difflib.get_close_matches(full_key, _flatten_keys(schema), n=1, cutoff=0.3)
    return match[0] if match else ""


def _unknown_key_error(full_key: str, origin: str, schema: CfgNode) -> ConfigError:
    hint = _closest_key(full_key, schema)
    suggestion = f"; did you mean {hint}?" if hint else ""
    return ConfigError(f"{origin}: unknown config key {full_key}{suggestion}")


def _coerce(value: Any, default: Any, full_key: str, origin: str) -> Any:
    """Fit a YAML value to the default's type (int <-> float, tuple -> list); None defaults accept anything."""
    if default is None or value is None:
        return value
    if isinstance(default, bool) or isinstance(value, bool):
        if isinstance(default, bool) and isinstance(value, bool):
            return value
    elif isinstance(default, float) and isinstance(value, int):
        return float(value)
    elif isinstance(default, int) and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(default, list) and isinstance(value, tuple):
        value = list(value)
    if isinstance(default, CfgNode) or type(value) is type(default):
        return value
    raise ConfigError(f"{origin}: {full_key} must be {type(default).__name__} like {default!r}, got {value!r}")


# dataset paths are a string, or a list of them for AlphaPose's ConcatDataset configs
_STR_OR_LIST_KEYS = frozenset({"ROOT", "IMG_PREFIX", "ANN"})


def _merge_into(cfg: CfgNode, data: Mapping[str, Any], origin: str, root: CfgNode, prefix: str = "") -> None:
    for key, value in data.items():
        full = f"{prefix}{key}"
        if key not in cfg:
            raise _unknown_key_error(full, origin, root)
        default = cfg[key]
        if isinstance(default, CfgNode):
            if not isinstance(value, Mapping):
                raise ConfigError(f"{origin}: {full} is a section, got {value!r}")
            _merge_into(default, value, origin, root, full + ".")
        elif isinstance(value, Mapping):
            raise ConfigError(f"{origin}: {full} is a value, not a section")
        elif key in _STR_OR_LIST_KEYS and isinstance(value, (str, list)):
            cfg[key] = value
        else:
            cfg[key] = _coerce(value, default, full, origin)


def shipped_configs_dir() -> Path:
    """The folder of the configs that ship with akit (package data; the repository's ``configs/``)."""
    return Path(str(resources.files("alphapose_kit") / "configs"))


def resolve_config_path(config: str | Path) -> Path:
    """A config given as a YAML path or as a name under akit's configs/ (``coco/fastpose_res50_256x192``)."""
    path = Path(config)
    if path.is_file():
        return path
    shipped = shipped_configs_dir()
    for candidate in (shipped / path, shipped / f"{path}.yaml"):
        if candidate.is_file():
            return candidate
    raise ConfigError(
        f"config file not found: {config} (give a YAML path or a name such as coco/fastpose_res50_256x192)"
    )


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file in UTF-8 (is it really a YAML config?)") from None
    except (OSError, yaml.YAMLError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"{path}: not a readable YAML file ({first_line})") from None
    if data is None:
        raise ConfigError(f"{path}: the config file is empty (give at least MODEL and DATA_PRESET)")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a config must be a YAML mapping, got {type(data).__name__}")
    return data


def _merge(cfg: CfgNode, data: Mapping[str, Any], origin: str) -> None:
    _merge_into(cfg, data, origin, cfg)


def _opts_to_dict(opts: Sequence[str], schema: CfgNode) -> dict[str, Any]:
    if len(opts) % 2:
        raise ConfigError(f"--opts needs KEY VALUE pairs, got an odd number of items: {' '.join(opts)}")
    nested: dict[str, Any] = {}
    for key, raw in zip(opts[0::2], opts[1::2], strict=True):
        try:
            value = yaml.safe_load(raw) if isinstance(raw, str) else raw
        except yaml.YAMLError:
            value = raw
        node = nested
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return nested


def load_config(
    config: str | Path | CfgNode | None = None, opts: Iterable[str] | None = None, freeze: bool = True
) -> CfgNode:
    """Load an akit or AlphaPose YAML over the defaults, then apply ``--opts KEY VALUE`` overrides.

    ``config`` may be a path, a name under akit's ``configs/`` folder, an already loaded CfgNode, or None for
    the defaults. Raises ConfigError (one line) for a missing file, an unknown key or a wrongly typed value.
    """
    if isinstance(config, CfgNode):
        cfg = config.clone()
        cfg.defrost()
    else:
        cfg = get_default_config()
        if config is not None:
            path = resolve_config_path(config)
            _merge(cfg, _read_yaml(path), str(path))
    opts = list(opts or [])
    if opts:
        _merge(cfg, _opts_to_dict(opts, cfg), "--opts")
    _validate(cfg)
    if freeze:
        cfg.freeze()
    return cfg


def _validate(cfg: CfgNode) -> None:
    preset = cfg.DATA_PRESET
    if preset.NUM_JOINTS <= 0:
        raise ConfigError(f"DATA_PRESET.NUM_JOINTS must be positive, got {preset.NUM_JOINTS}")
    for key in ("IMAGE_SIZE", "HEATMAP_SIZE"):
        size = preset[key]
        if len(size) != 2 or min(size) <= 0:
            raise ConfigError(f"DATA_PRESET.{key} must be [height, width], got {size}")
    if not all(is_multiple_of_32(side) for side in preset.IMAGE_SIZE):
        raise ConfigError(
            f"DATA_PRESET.IMAGE_SIZE sides must be multiples of 32 (e.g. [256, 192]), got {preset.IMAGE_SIZE}"
        )


def loss_type(cfg: CfgNode) -> str:
    """The heatmap codec a config implies: 'MSELoss' (heatmaps), 'L1JointRegression' (integral) or 'Combined'."""
    return cfg.DATA_PRESET.LOSS_TYPE or cfg.LOSS.TYPE


def dump_config(cfg: CfgNode) -> str:
    """The config as YAML text (for saving next to training runs and exported models)."""
    return cfg.dump()
