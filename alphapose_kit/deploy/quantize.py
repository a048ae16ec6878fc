"""INT8 post-training static quantisation through ONNX Runtime (QDQ format), calibrated on real person crops.

Follows ONNX Runtime's recipe (onnxruntime.ai/docs/performance/model-optimizations/quantization.html):
``quant_pre_process`` (shape inference, Conv+BN folding), then ``quantize_static`` with QDQ nodes, activations
QUInt8 and weights QInt8 (per channel by default). ``reduce_range`` (7-bit weights) is used only on x86 CPUs
without VNNI, where 8-bit products can saturate. Layers named in ``keep_fp32`` (ONNX node names or the torch module
names they came from, e.g. ``conv_out``) stay float. :func:`sensitive_layers` ranks layers by how much
signal-to-quantisation-noise ratio (SQNR) they lose.
"""

from __future__ import annotations

import contextlib
import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from alphapose_kit.errors import AkitError

CALIB_METHODS = ("minmax", "entropy", "percentile")
ENTROPY_BINS = 2048
QUANTIZED_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")
SCOPES_KEY = "pkg.torch.onnx.name_scopes"  # the dynamo exporter's record of the torch module path of each node


@dataclass(frozen=True)
class Int8Options:
    """How to calibrate and quantise (``akit export --int8`` flags)."""

    method: str = "minmax"
    calib_size: int = 64
    per_channel: bool = True
    keep_fp32: tuple[str, ...] = ()
    held_out: int = 32  # crops kept out of calibration to measure accuracy
    min_agreement: float = 0.90  # keypoint agreement with fp32 below which the export fails
    percentile: float = 99.999
    bench_rounds: int = 5  # latency rounds in the report (alternating torch fp32 / ORT fp32 / ORT INT8); 0: none
    bench_batches: tuple[int, ...] = (1, 8)

    def validate(self) -> None:
        if self.method not in CALIB_METHODS:
            raise AkitError(f"unknown --calib-method {self.method!r}; choose one of {', '.join(CALIB_METHODS)}")
        if self.calib_size < 1:
            raise AkitError(f"--calib-size must be at least 1, got {self.calib_size}")
        if not 0 <= self.min_agreement <= 1:
            raise AkitError(f"--min-agreement must be in [0, 1], got {self.min_agreement}")


def has_vnni() -> bool:
    """Whether this x86 CPU has VNNI (AVX512-VNNI or AVX-VNNI); non-x86 CPUs count as True (no 7-bit need)."""
    if platform.machine().lower() not in ("x86_64", "amd64", "i386", "i686"):
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_vnni" in flags or "avx_vnni" in flags


class CropReader:
    """ONNX Runtime ``CalibrationDataReader`` over normalised crops, ``batch`` at a time."""

    def __init__(self, crops: np.ndarray, input_name: str, batch: int = 1) -> None:
        self.crops, self.input_name, self.batch = crops, input_name, batch
        self.start = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.start >= len(self.crops):
            return None
        chunk = self.crops[self.start : self.start + self.batch]
        self.start += self.batch
        if len(chunk) < self.batch:  # a fixed-batch model takes only full batches
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], self.batch - len(chunk), 0)])
        return {self.input_name: np.ascontiguousarray(chunk, np.float32)}

    def __iter__(self) -> Any:
        return iter(self.get_next, None)

    def rewind(self) -> None:
        self.start = 0


def node_scopes(model: Any) -> dict[str, list[str]]:
    """ONNX node name -> the torch module paths it came from (outermost first), as the dynamo exporter recorded."""
    import ast

    scopes: dict[str, list[str]] = {}
    for node in model.graph.node:
        for prop in node.metadata_props:
            if prop.key == SCOPES_KEY:
                with contextlib.suppress(ValueError, SyntaxError):
                    scopes[node.name] = [s for s in ast.literal_eval(prop.value) if s]
    return scopes


def module_of(scopes: Sequence[str]) -> str:
    """The innermost torch module path of a node's scopes (the last scope is the op itself; '' at the top level).

    A Conv with a folded BatchNorm carries the BatchNorm's path (``preact.layer1.0.bn1`` for ``conv1``)."""
    return scopes[-2] if len(scopes) > 1 else ""


def resolve_keep_fp32(model: Any, names: Sequence[str]) -> list[str]:
    """The quantisable nodes ``names`` mean: ONNX node names, or torch module paths (a module and everything in it)."""
    quantisable = [node for node in model.graph.node if node.op_type in QUANTIZED_OPS]
    scopes = node_scopes(model)
    chosen: list[str] = []
    for name in names:
        hits = [
            node.name
            for node in quantisable
            if node.name == name or any(s == name or s.startswith(name + ".") for s in scopes.get(node.name, []))
        ]
        if not hits:
            examples = ", ".join(sorted({module_of(scopes.get(n.name, [])) or n.name for n in quantisable[-3:]}))
            raise AkitError(f"--keep-fp32 {name}: no quantisable layer of that name (examples: {examples})")
        chosen.extend(h for h in hits if h not in chosen)
    return chosen


def entropy_ranges(model: Path, reader: CropReader) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Activation ranges that minimise the KL divergence between each tensor's histogram (ENTROPY_BINS bins) and its
    128-level quantised version (TensorRT's entropy calibration); the graph outputs keep their min-max range.

    ``quantize_static(calibrate_method=Entropy)`` builds its histograms with 128 bins, as many as the quantised
    levels, which leaves a single candidate threshold: the full range, i.e. min-max. akit runs ONNX Runtime's
    entropy calibrator itself with finer histograms.
    """
    import tempfile

    from onnxruntime.quantization.calibrate import CalibrationMethod, create_calibrator

    with tempfile.TemporaryDirectory(prefix="akit-entropy-") as folder:
        calibrator = create_calibrator(
            model,
            augmented_model_path=str(Path(folder) / "augmented.onnx"),
            calibrate_method=CalibrationMethod.Entropy,
            extra_options={"num_bins": ENTROPY_BINS, "num_quantized_bins": 128, "symmetric": False},
        )
        calibrator.collect_data(reader)
        data = calibrator.compute_data()
    return {
        name: (np.asarray(tensor.range_value[0], np.float32), np.asarray(tensor.range_value[1], np.float32))
        for name, tensor in data.items()
    }


def quantize(
    fp32_path: Path,
    prepared: Path,
    int8_path: Path,
    crops: np.ndarray,
    input_name: str,
    options: Int8Options,
    batch: int = 1,
) -> list[str]:
    """Pre-process ``fp32_path`` into ``prepared`` and quantise that into ``int8_path``; returns the nodes kept fp32."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    options.validate()
    try:
        quant_pre_process(str(fp32_path), str(prepared), skip_symbolic_shape=True)
        excluded = resolve_keep_fp32(onnx.load(str(prepared)), options.keep_fp32)
        extra: dict[str, Any] = {}
        method = CalibrationMethod.MinMax
        if options.method == "percentile":
            method, extra = CalibrationMethod.Percentile, {"CalibPercentile": options.percentile}
        elif options.method == "entropy":  # ranges from akit's own entropy pass, then applied as overrides
            ranges = entropy_ranges(prepared, CropReader(crops, input_name, batch))
            outputs = {o.name for o in onnx.load(str(prepared)).graph.output}  # heatmap peaks are rare: never clipped
            overrides = {n: [{"rmin": lo, "rmax": hi}] for n, (lo, hi) in ranges.items() if n not in outputs}
            extra = {"TensorQuantOverrides": overrides}
        quantize_static(
            str(prepared),
            str(int8_path),
            CropReader(crops, input_name, batch),
            quant_format=QuantFormat.QDQ,
            per_channel=options.per_channel,
            reduce_range=not has_vnni(),
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            nodes_to_exclude=excluded,
            calibrate_method=method,
            extra_options=extra,
        )
    except AkitError:
        raise
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise AkitError(f"INT8 quantisation failed: {first}") from None
    return excluded


def sqnr_db(reference: np.ndarray, noisy: np.ndarray) -> float:
    """Signal-to-noise ratio of ``noisy`` against ``reference`` in dB (capped at 100 dB for identical tensors)."""
    signal = float(np.linalg.norm(reference.astype(np.float64)))
    noise = float(np.linalg.norm(reference.astype(np.float64) - noisy))
    if noise <= signal * 1e-5:
        return 100.0
    return 20 * math.log10(max(signal, 1e-30) / noise)


def _with_outputs(model: Any, names: Sequence[str]) -> bytes:
    import onnx

    extra = onnx.ModelProto()
    extra.CopyFrom(model)
    present = {o.name for o in extra.graph.output}
    for name in names:
        if name not in present:
            extra.graph.output.append(onnx.helper.make_empty_tensor_value_info(name))
    return extra.SerializeToString()


def _layer_tensors(fp32: Any, present: set[str]) -> dict[str, tuple[str, str]]:
    """Quantisable node -> (input, output) tensor names present in both models; when the node's own output is gone
    (the QDQ model folds a following Relu into it), the Relu's output."""
    consumers: dict[str, list[Any]] = {}
    for node in fp32.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    tensors = {}
    for node in fp32.graph.node:
        if node.op_type not in QUANTIZED_OPS:
            continue
        out = node.output[0]
        after = consumers.get(out, [])
        if out not in present and len(after) == 1 and after[0].op_type in ("Relu", "Clip"):
            out = after[0].output[0]
        if out in present and node.input[0] in present:
            tensors[node.name] = (node.input[0], out)
    return tensors


def sensitive_layers(
    fp32_path: Path, int8_path: Path, crops: np.ndarray, input_name: str, top: int = 5, skip: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """The ``top`` quantised layers that cost most: SQNR of their input minus SQNR of their output, in dB.

    Both models run on ``crops`` with every layer's input and output exposed (``fp32_path`` is the pre-processed
    model the QDQ model was made from, so tensor names match; QDQ nodes are inserted after them). ``skip``: nodes
    left in fp32.
    """
    import onnx
    import onnxruntime as ort

    fp32, int8 = onnx.load(str(fp32_path)), onnx.load(str(int8_path))
    present = {o for node in int8.graph.node for o in node.output} | {i.name for i in int8.graph.input}
    layers = {node: pair for node, pair in _layer_tensors(fp32, present).items() if node not in skip}
    names = sorted({name for pair in layers.values() for name in pair} - {input_name})
    # what the next layer sees in the QDQ model: the dequantised tensor (a fused Relu lives in its clamp)
    seen = [n + "_DequantizeLinear_Output" if n + "_DequantizeLinear_Output" in present else n for n in names]
    quantised_input = input_name + "_DequantizeLinear_Output"
    runs: list[dict[str, np.ndarray]] = []
    for model, outputs in ((fp32, names), (int8, seen + [quantised_input] * (quantised_input in present))):
        session = ort.InferenceSession(_with_outputs(model, outputs), providers=["CPUExecutionProvider"])
        fixed = session.get_inputs()[0].shape[0]
        batch = np.ascontiguousarray(crops[:fixed] if isinstance(fixed, int) else crops)
        values = session.run(outputs, {input_name: batch})
        runs.append(
            {input_name: batch, **dict(zip(names + [input_name] * (len(outputs) > len(names)), values, strict=True))}
        )
    scopes = node_scopes(fp32)
    ranked: list[dict[str, Any]] = []
    for node, (inp, out) in layers.items():
        before = sqnr_db(runs[0][inp], runs[1][inp])
        after = sqnr_db(runs[0][out], runs[1][out])
        ranked.append(
            {"node": node, "module": module_of(scopes.get(node, [])), "sqnr_db": after, "loss_db": before - after}
        )
    ranked.sort(key=lambda r: -r["loss_db"])
    return ranked[:top]
