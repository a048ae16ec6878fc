"""Name -> builder registry for pose networks, keyed by AlphaPose's MODEL.TYPE."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from torch import nn
from yacs.config import CfgNode

from alphapose_kit.errors import AkitError, ConfigError

PoseModelBuilder = Callable[[CfgNode], nn.Module]
_BUILDERS: dict[str, PoseModelBuilder] = {}
_BUILTIN_MODULES = ("fastpose", "fastpose_duc", "simplepose", "hrnet", "hardnet")


def _import_builtin_models() -> None:
    """Import akit's model files so their builders register (deferred to keep imports light)."""
    for module in _BUILTIN_MODULES:
        importlib.import_module(f"{__package__}.{module}")


def register_pose_model(*model_types: str) -> Callable[[PoseModelBuilder], PoseModelBuilder]:
    """Register a builder ``fn(cfg) -> nn.Module`` under one or more MODEL.TYPE names; a name another builder holds
    is refused in one line (a silent replacement would change what every config of that type builds)."""

    def decorator(builder: PoseModelBuilder) -> PoseModelBuilder:
        for model_type in model_types:
            held = _BUILDERS.get(model_type)
            if held is not None and held is not builder:
                raise AkitError(
                    f"MODEL.TYPE {model_type!r} is already registered by {held.__module__}.{held.__qualname__}; "
                    "register the new network under another name"
                )
        for model_type in model_types:
            _BUILDERS[model_type] = builder
        return builder

    return decorator


def registered_model_types() -> list[str]:
    """The MODEL.TYPE values akit can build."""
    _import_builtin_models()
    return sorted(_BUILDERS)


def build_pose_model(cfg: CfgNode) -> nn.Module:
    """Build the (randomly initialised) pose network that ``cfg.MODEL.TYPE`` names, narrowed by MODEL.PRUNED_WIDTHS."""
    _import_builtin_models()
    model_type = cfg.MODEL.TYPE
    if model_type not in _BUILDERS:
        raise ConfigError(
            f"MODEL.TYPE {model_type!r} is not supported; choose one of {', '.join(registered_model_types())}"
        )
    model = _BUILDERS[model_type](cfg)
    widths = cfg.MODEL.get("PRUNED_WIDTHS")
    if widths:  # a pruned network: narrower layers (deploy/prune.py writes these)
        from alphapose_kit.models.widths import apply_widths

        apply_widths(model, widths)
    return model
