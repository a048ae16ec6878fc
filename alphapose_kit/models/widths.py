"""Channel counts that differ from a network's defaults (``MODEL.PRUNED_WIDTHS``): how a pruned network is rebuilt.

Each entry is ``[module path, in_channels, out_channels]`` (a BatchNorm's two numbers are equal). After the builder
made the default network, :func:`apply_widths` replaces each listed layer by a fresh one of the same kind and
settings with those channel counts, so a tensor-only checkpoint of the pruned network loads strictly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from alphapose_kit.errors import ConfigError
from alphapose_kit.models.dcn import DeformConv2d

Width = tuple[str, int, int]


def _resized(module: nn.Module, cin: int, cout: int) -> nn.Module:
    """A fresh layer like ``module`` with ``cin`` inputs and ``cout`` outputs."""
    if isinstance(module, nn.BatchNorm2d):
        return nn.BatchNorm2d(cout, eps=module.eps, momentum=module.momentum, affine=module.affine)
    if isinstance(module, nn.Linear):
        return nn.Linear(cin, cout, bias=module.bias is not None)
    if isinstance(module, nn.ConvTranspose2d):
        return nn.ConvTranspose2d(
            cin, cout, module.kernel_size, module.stride, module.padding, module.output_padding,  # type: ignore[arg-type]
            module.groups, module.bias is not None, module.dilation,  # type: ignore[arg-type]
        )  # fmt: skip
    if isinstance(module, nn.Conv2d):
        return nn.Conv2d(
            cin, cout, module.kernel_size, module.stride, module.padding, module.dilation,  # type: ignore[arg-type]
            module.groups, module.bias is not None, module.padding_mode,
        )  # fmt: skip
    if isinstance(module, DeformConv2d):  # and the modulated subclass
        return type(module)(
            cin, cout, module.kernel_size, module.stride, module.padding, module.dilation,
            module.groups, module.deform_groups, module.bias is not None,
        )  # fmt: skip
    raise ConfigError(f"MODEL.PRUNED_WIDTHS: cannot resize a {type(module).__name__}")


def channels_of(module: nn.Module) -> tuple[int, int] | None:
    """``(in, out)`` channels of a resizable layer, None for anything else."""
    if isinstance(module, nn.BatchNorm2d):
        return module.num_features, module.num_features
    if isinstance(module, nn.Linear):
        return module.in_features, module.out_features
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, DeformConv2d)):
        return module.in_channels, module.out_channels
    return None


def parse_widths(entries: Sequence[Any]) -> list[Width]:
    """Check ``MODEL.PRUNED_WIDTHS`` entries: ``[name, in, out]`` with positive integers."""
    widths = []
    for entry in entries:
        ok = isinstance(entry, (list, tuple)) and len(entry) == 3 and isinstance(entry[0], str)
        if not ok or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in entry[1:]):
            raise ConfigError(f"MODEL.PRUNED_WIDTHS entries are [module, in_channels, out_channels]; got {entry!r}")
        widths.append((entry[0], int(entry[1]), int(entry[2])))
    return widths


def apply_widths(model: nn.Module, entries: Sequence[Any]) -> nn.Module:
    """Resize the listed layers of ``model`` in place (new, uninitialised weights); returns ``model``."""
    for name, cin, cout in parse_widths(entries):
        parent_name, _, leaf = name.rpartition(".")
        try:
            parent = model.get_submodule(parent_name) if parent_name else model
            old = getattr(parent, leaf)
        except AttributeError:
            raise ConfigError(f"MODEL.PRUNED_WIDTHS: the network has no layer {name}") from None
        setattr(parent, leaf, _resized(old, cin, cout))
    return model


def width_changes(pruned: nn.Module, reference: nn.Module) -> list[list[Any]]:
    """``[name, in, out]`` of every layer of ``pruned`` whose channels differ from ``reference``'s (same layout)."""
    reference_layers = dict(reference.named_modules())
    changes: list[list[Any]] = []
    for name, module in pruned.named_modules():
        mine = channels_of(module)
        theirs = channels_of(reference_layers[name]) if name in reference_layers else None
        if mine is not None and mine != theirs:
            changes.append([name, *mine])
    return changes
