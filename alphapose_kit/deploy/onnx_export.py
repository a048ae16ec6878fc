"""Write a network as one self-contained ONNX file with akit's metadata embedded.

Opset 18 and later go through the dynamo exporter (``torch.onnx.export(..., dynamo=True)``, needs onnxscript), the
only one that exports torchvision's ``deform_conv2d`` (as ONNX ``DeformConv``, opset 19); earlier opsets through the
TorchScript-based exporter. ``nn.PixelShuffle`` becomes ``DepthToSpace`` (mode CRD) with both.
"""

from __future__ import annotations

import contextlib
import io
import re
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from alphapose_kit.deploy.metadata import embed_onnx
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.logging import get_logger

log = get_logger("deploy")

DEFAULT_OPSET = 19
MIN_OPSET = 11
DYNAMO_MIN_OPSET = 18  # the dynamo exporter cannot convert down to earlier opsets
# ops of akit's networks that need a given opset: (module class name, ONNX op, first opset that has it)
OPSET_NEEDS = (("DeformConv2d", "DeformConv (DCN)", 19), ("ModulatedDeformConv2d", "DeformConv (DCN)", 19))


def max_opset() -> int:
    """The newest opset both torch's exporter and the installed onnx package know."""
    import onnx

    return min(onnx.defs.onnx_opset_version(), 23)


def check_opset(model: nn.Module, opset: int) -> None:
    """One line for an opset out of range or too old for an op the network uses (naming the opset that works)."""
    top = max_opset()
    if not MIN_OPSET <= opset <= top:
        raise AkitError(f"--opset must be between {MIN_OPSET} and {top}, got {opset}")
    kinds = {type(module).__name__ for module in model.modules()}
    for cls_name, op, first in OPSET_NEEDS:
        if cls_name in kinds and opset < first:
            raise AkitError(f"{op} cannot be exported at opset {opset}; it needs --opset {first} or later")


def check_config_opset(cfg: Any, opset: int) -> None:
    """:func:`check_opset` from a pose config alone, before any weights are read."""
    from alphapose_kit.models.registry import build_pose_model

    with torch.device("meta"):  # layer types only: no memory, no initialisation
        check_opset(build_pose_model(cfg), opset)


def import_deform_ops(model: nn.Module) -> None:
    """Import torchvision's ops before tracing a DCN network (akit imports them lazily, and an import inside a trace
    fails)."""
    if any(type(m).__name__.endswith("DeformConv2d") for m in model.modules()):
        import torchvision.ops  # noqa: F401


def _failed_op(message: str) -> str | None:
    """The operator an exporter error names, if any."""
    for pattern in (
        r"operator '([\w:.]+)'",
        r"namespace ([\w:.]+)",
        r"(aten::\w+|torchvision::\w+)",
        r"for (aten\.\w+)",
    ):
        match = re.search(pattern, message)
        if match:
            return match.group(1)
    return None


def export_onnx(
    model: nn.Module,
    example: torch.Tensor,
    path: str | Path,
    metadata: dict[str, Any],
    *,
    opset: int = DEFAULT_OPSET,
    dynamic_batch: bool = False,
) -> None:
    """Export ``model`` (eval mode, on CPU) to ``path`` as a single ONNX file (weights inside) with ``metadata``.

    ``example`` fixes the input shape except the batch, which stays symbolic with ``dynamic_batch``. The input and
    output names come from the metadata. Errors are one line naming the operator and an opset that can export it.
    """
    import onnx

    check_opset(model, opset)
    import_deform_ops(model)
    path = Path(path)
    raw = path.with_name(path.name + ".raw")
    if opset >= DYNAMO_MIN_OPSET:
        dynamic = {"dynamic_shapes": ({0: torch.export.Dim("batch", min=1, max=4096)},)} if dynamic_batch else {}
        kwargs: dict[str, Any] = {"dynamo": True, "external_data": False, "optimize": True, **dynamic}
    else:
        axes = {metadata["input_name"]: {0: "batch"}, metadata["output_name"]: {0: "batch"}}
        kwargs = {"dynamo": False, "do_constant_folding": True, **({"dynamic_axes": axes} if dynamic_batch else {})}
    kwargs.update(input_names=[metadata["input_name"]], output_names=[metadata["output_name"]])
    exporter = "dynamo" if kwargs["dynamo"] else "TorchScript"
    captured = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(captured), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), str(raw), opset_version=opset, **kwargs)
        proto = onnx.load(str(raw))
    except AkitError:
        raise
    except Exception as exc:
        log.debug("ONNX export failed:\n%s\n%s", captured.getvalue(), exc)
        op = _failed_op(str(exc))
        what = f"operator {op}" if op else (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        hint = f"; try --opset {max_opset()}" if opset < max_opset() else ""
        raise AkitError(f"ONNX export failed at opset {opset} ({exporter} exporter): {what}{hint}") from None
    finally:
        raw.unlink(missing_ok=True)
        Path(str(raw) + ".data").unlink(missing_ok=True)
    embed_onnx(proto, metadata)
    onnx.save(proto, str(path))
