"""Configs: AlphaPose's YAML schema on yacs, the loader with ``--opts`` overrides, and the shipped config files."""

from alphapose_kit.config.loader import dump_config, load_config, loss_type, resolve_config_path, shipped_configs_dir
from alphapose_kit.config.schema import get_default_config

__all__ = [
    "dump_config",
    "get_default_config",
    "load_config",
    "loss_type",
    "resolve_config_path",
    "shipped_configs_dir",
]
