"""Exported models as networks the pipeline runs unchanged: ``load_backend(path) -> (network, cfg)``.

The network is an ``nn.Module`` without parameters whose ``forward`` maps an ``(N, 3, H, W)`` float tensor to the
model's output on the same device, so :class:`~alphapose_kit.engine.estimator.PoseEstimator`, ``PosePipeline``
and ``YOLODetector`` (crop, decode, NMS, writers) take it as they take a torch module.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.deploy.formats import FORMATS, format_of, runtime_format
from alphapose_kit.deploy.metadata import config_from_metadata, read_metadata
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.device import resolve_device


def backend_of(path: str | Path) -> str:
    """The backend a model file needs, from its suffix: onnxruntime, torchscript or torch (config/checkpoint)."""
    return format_of(path).runtime


def ort_providers(device: torch.device) -> list[str]:
    """ONNX Runtime's CUDA provider for a CUDA device when this onnxruntime build has it, else the CPU one."""
    import onnxruntime as ort

    if device.type == "cuda":
        if "CUDAExecutionProvider" not in ort.get_available_providers():
            raise AkitError("this onnxruntime has no CUDA provider; pip install onnxruntime-gpu or use --device cpu")
        return [("CUDAExecutionProvider", {"device_id": device.index or 0}), "CPUExecutionProvider"]  # type: ignore[list-item]
    return ["CPUExecutionProvider"]


def ort_session(path: str | Path, device: torch.device | str = "cpu", threads: int | None = None) -> Any:
    """An ONNX Runtime session for ``path`` with full graph optimisation; one line on an unreadable file."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    # no busy-waiting between runs: ORT's spinning threads would steal the cores from the torch stages (detector,
    # other backends in a benchmark) that run right after it
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), options, providers=ort_providers(resolve_device(device)))
    except AkitError:
        raise
    except Exception as exc:  # onnxruntime raises its own exception classes (Fail, InvalidGraph, NotImplemented...)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise AkitError(f"ONNX Runtime cannot load {path}: {first}") from None


class OnnxRuntimeNetwork(nn.Module):
    """An ONNX model run by ONNX Runtime as a torch-callable network (float16 models take float32 in and out).

    A model exported with a fixed batch is run in slices of that batch (the last one padded), so the pipeline's
    batch size never has to match the export.
    """

    def __init__(self, path: str | Path, device: torch.device | str = "cpu", threads: int | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.session = ort_session(path, device, threads)
        (inp,), out = self.session.get_inputs(), self.session.get_outputs()[0]
        self.input_name, self.output_name = inp.name, out.name
        self.input_dtype = np.float16 if inp.type == "tensor(float16)" else np.float32
        self.fixed_batch = inp.shape[0] if isinstance(inp.shape[0], int) else None

    def _run(self, batch: np.ndarray) -> np.ndarray:
        return self.session.run([self.output_name], {self.input_name: batch})[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        array = x.detach().to("cpu", torch.float32).contiguous().numpy().astype(self.input_dtype, copy=False)
        step = self.fixed_batch
        if step is None or len(array) == step:
            out = self._run(array)
        else:
            parts = []
            for start in range(0, len(array), step):
                chunk = array[start : start + step]
                padded = (
                    np.concatenate([chunk, np.repeat(chunk[-1:], step - len(chunk), 0)]) if len(chunk) < step else chunk
                )
                parts.append(self._run(padded)[: len(chunk)])
            out = np.concatenate(parts)
        return torch.from_numpy(np.asarray(out, np.float32)).to(x.device)

    def extra_repr(self) -> str:
        return f"{self.path.name}, providers={self.session.get_providers()}"


class TorchScriptNetwork(nn.Module):
    """A TorchScript archive as a network; a float16 archive takes float32 in and gives float32 out."""

    def __init__(self, path: str | Path, device: torch.device | str = "cpu") -> None:
        super().__init__()
        target = resolve_device(device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.jit's deprecation notice
            try:
                self.module = torch.jit.load(str(path), map_location=target)
            except RuntimeError as exc:
                first = (str(exc).strip().splitlines() or ["unreadable"])[0]
                raise AkitError(f"cannot load TorchScript file {path}: {first}") from None
        self.module.eval()
        param = next(self.module.parameters(), None)
        self.dtype = param.dtype if param is not None else torch.float32

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x.to(self.dtype)).float()


def load_network(path: str | Path, device: torch.device | str = "cpu", threads: int | None = None) -> nn.Module:
    """The network of an ONNX or TorchScript file (by suffix), ready for ``(N, 3, H, W)`` float tensors."""
    backend = backend_of(path)
    if backend == "onnxruntime":
        return OnnxRuntimeNetwork(path, device, threads)
    if backend == "torchscript":
        return TorchScriptNetwork(path, device)
    exported = "; ".join(f"{f.title} {', '.join(f.suffixes)}" for f in FORMATS if f.precisions)
    raise AkitError(f"{path} is not an exported model ({exported})")


def _check_backend(path: Path, backend: str) -> None:
    if backend == "auto":
        return
    wanted = runtime_format(backend)
    found = backend_of(path)
    if backend != found:
        suffixes = ", ".join(wanted.suffixes)
        kind = f"a {wanted.title} file ({suffixes})" if wanted.precisions else "a config with --checkpoint"
        raise AkitError(f"--backend {backend} needs {kind}; {path.name} is for the {found} backend")


def load_backend(
    model: str | Path,
    backend: str = "auto",
    *,
    checkpoint: str | Path | None = None,
    config: str | Path | CfgNode | None = None,
    device: torch.device | str = "cpu",
    threads: int | None = None,
) -> tuple[nn.Module, CfgNode]:
    """A pose network and the config that describes it, for ``PosePipeline(cfg, pose_model=network)``.

    ``model`` is an exported file (``.onnx`` for onnxruntime, ``.pt`` for torchscript; its embedded metadata gives
    the config) or, for the torch backend, a config with ``checkpoint``. ``config`` overrides the embedded one
    (needed only for files exported without akit). ``backend="auto"`` picks by suffix.
    """
    from alphapose_kit.config import load_config

    path = Path(model)
    _check_backend(path, backend)
    if backend_of(path) == "torch":
        from alphapose_kit.models.loader import load_pose_model

        cfg = load_config(config if config is not None else model)
        return load_pose_model(cfg, checkpoint, device), cfg
    if checkpoint is not None:
        raise AkitError(f"--checkpoint does not apply to an exported model ({path.name} holds its weights)")
    metadata = read_metadata(path)
    if config is not None:
        cfg = load_config(config)
    elif metadata is None:
        raise AkitError(f"{path} has no akit metadata (not exported by akit export); pass --cfg for it")
    else:
        cfg = config_from_metadata(metadata)
    return load_network(path, device, threads), cfg


def load_detector_backend(
    path: str | Path, device: torch.device | str = "cpu", threads: int | None = None, **options: Any
) -> Any:
    """A ``YOLODetector`` over an exported detector (settings from its metadata; ``options`` override them)."""
    from alphapose_kit.detectors import YOLODetector

    metadata = read_metadata(path)
    if metadata is None or metadata.get("kind") != "detector":
        what = "has no akit metadata" if metadata is None else "is a pose model"
        raise AkitError(f"{path} {what}; --detector-model takes a detector exported by akit export --detector")
    settings = dict(metadata["detector_settings"])
    size = options.pop("input_size", None)
    if size is not None and int(size) != settings["input_size"]:
        raise AkitError(f"{Path(path).name} was exported for input size {settings['input_size']}, not {size}")
    settings.update({key: value for key, value in options.items() if value is not None})
    return YOLODetector(load_network(path, device, threads), device=device, **settings)
