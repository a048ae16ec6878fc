"""One table of formats and runtimes that every list derives from; timing primitives in their own module; no import
cycle in deploy/."""

from __future__ import annotations

import pytest

from alphapose_kit.deploy import formats
from alphapose_kit.deploy.formats import FORMATS, check_export, format_of, precision_of, runtime_format
from alphapose_kit.deploy.runtime import backend_of
from alphapose_kit.engine.options import BACKENDS, PipelineOptions
from alphapose_kit.errors import AkitError


def test_every_list_comes_from_the_table() -> None:
    assert formats.RUNTIMES == ("torch", "onnxruntime", "torchscript")
    assert BACKENDS == formats.RUNTIMES  # akit infer --backend
    assert formats.EXPORT_FORMATS == ("onnx", "torchscript")
    assert formats.BENCH_BACKENDS == ("torch", "onnxruntime", "torchscript", "int8", "pruned")
    for fmt in FORMATS:
        for suffix in fmt.suffixes:
            assert backend_of(f"model{suffix}") == fmt.runtime
            assert backend_of(f"MODEL{suffix.upper()}") == fmt.runtime
        assert runtime_format(fmt.runtime) is fmt
    assert backend_of("coco/fastpose_res50_256x192") == "torch"
    assert [f.name for f in FORMATS if "int8" in f.precisions] == ["onnx"]


def test_format_and_precision_checks() -> None:
    assert check_export("torchscript", "fp16").suffix == ".pt" and check_export("onnx", "int8").suffix == ".onnx"
    assert format_of("a.ts").name == "torchscript" and format_of("a.pth") is formats.TORCH
    with pytest.raises(AkitError, match="--int8 needs --format onnx"):
        check_export("torchscript", "int8")
    with pytest.raises(AkitError, match="unknown format 'torch'; choose one of onnx, torchscript"):
        check_export("torch", "fp32")  # runs, but is not written by akit export
    with pytest.raises(AkitError, match="exclude each other"):
        precision_of(True, True)
    with pytest.raises(AkitError, match="unknown backend 'tensorrt'; choose one of torch, onnxruntime, torchscript"):
        runtime_format("tensorrt")
    with pytest.raises(AkitError, match="unknown --backend 'tflite'"):
        PipelineOptions(backend="tflite").validate()


def test_timing_primitives_have_their_own_module() -> None:
    import alphapose_kit.deploy.benchmark as benchmark
    import alphapose_kit.deploy.int8 as int8
    import alphapose_kit.deploy.timing as timing

    for name in ("Timing", "Backend", "measure", "with_ratios", "table", "machine_name"):
        defined = getattr(timing, name)
        assert defined.__module__ == "alphapose_kit.deploy.timing"
        for user in (benchmark, int8):  # what the users of a primitive hold, if anything, is the one in timing
            assert getattr(user, name, defined) is defined


def test_no_import_cycle_in_deploy() -> None:
    """Every import, also those inside functions (grimp reads them all), runs one way between deploy's modules."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("alphapose_kit")
    modules = sorted(m for m in graph.modules if m.startswith("alphapose_kit.deploy."))
    cycles = [
        (a, b)
        for i, a in enumerate(modules)
        for b in modules[i + 1 :]
        if graph.chain_exists(importer=a, imported=b) and graph.chain_exists(importer=b, imported=a)
    ]
    assert cycles == []
