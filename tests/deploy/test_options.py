"""``akit export`` / ``akit bench`` options: bad values and flags without effect are one line before any weights are
fetched (an empty AKIT_HOME, so any fetch would say "download"); the library entry points; the bench device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import alphapose_kit.deploy
from alphapose_kit.cli.app import main
from alphapose_kit.deploy.options import BenchOptions, ExportOptions
from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.options import EvalOptions
from tests.deploy.nets import COCO_CFG, TINY, random_checkpoint
from tests.paths import COCO

KEYPOINTS = str(COCO / "person_keypoints.json")


@pytest.fixture
def no_weights(tmp_path, monkeypatch) -> Path:
    """An empty weights cache: a command that fetches weights fails with 'could not download'."""
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    return tmp_path


def akit(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    return code, capsys.readouterr().err


def _bad_inputs(folder: Path) -> dict[str, Path]:
    (folder / "empty").mkdir()
    nobody = folder / "nobody.json"
    nobody.write_text(json.dumps({"images": [], "annotations": []}))
    return {"missing": folder / "no" / "such", "empty": folder / "empty", "nobody": nobody}


EXPORT_CASES = [
    (["--calib", "{missing}"], "--calib: input not found"),
    (["--calib", "{empty}"], "--calib: no images"),
    (["--calib", ""], "--calib is empty"),
    (["--calib", "{missing}.json"], "not found"),
    (["--calib", "{nobody}"], "has no people to crop"),
    (["--detector", "yolov5s", "--calib", "{nobody}"], "has no images"),
    (["--detector", "yolov5s", "--conf", "2.0"], "--conf is a detector score threshold in [0, 1), got 2.0"),
    (["--detector", "yolov5s", "--nms", "1.5"], "--nms is an IoU threshold in [0, 1], got 1.5"),
    (["--detector", "yolov5s", "--conf", "nan"], "--conf is a detector score threshold"),
    (["--calib", str(COCO), "--conf", "-0.1"], "--conf is a detector score threshold"),
    (["--conf", "0.5"], "--conf and --nms are detector thresholds: they need --detector"),
    (["--calib", KEYPOINTS, "--nms", "0.5"], "they need --detector"),
    (["--min-agreement", "0.5"], "--min-agreement applies to INT8 exports: it needs --int8"),
    (["--keep-fp32", "conv_out"], "--keep-fp32 applies to INT8 exports: it needs --int8"),
    (["--calib", KEYPOINTS, "--calib-detfile", KEYPOINTS], "--calib-detfile gives the boxes of --calib images"),
    (["--input-size", "640"], "--input-size is a detector's letterbox side: it needs --detector"),
    (["--int8", "--min-agreement", "2"], "--min-agreement must be in [0, 1]"),
    (["--prune", "0.3", "--importance", "random"], "unknown --importance 'random'"),
    (["--prune", "0.3", "--importance", "taylor", "--calib", str(COCO)], "--importance taylor needs --calib"),
    (["--threads", "0"], "--threads must be at least 1"),
    (["--half", "--int8"], "--int8 and --half exclude each other"),
]


@pytest.mark.parametrize(("args", "message"), EXPORT_CASES)
def test_export_refuses_before_fetching_weights(capsys, no_weights, args, message) -> None:
    paths = _bad_inputs(no_weights)
    code, err = akit(capsys, "export", *(arg.format(**paths) for arg in args))
    assert code == 1 and err.startswith("akit: error: ") and len(err.strip().splitlines()) == 1, err
    assert message in err and "download" not in err


BENCH_CASES = [
    (["--source", str(COCO), "--conf", "2.0"], "--conf is a detector score threshold in [0, 1), got 2.0"),
    (["--source", str(COCO), "--nms", "-0.5"], "--nms is an IoU threshold in [0, 1], got -0.5"),
    (["--conf", "0.3"], "they need --source"),
    (["--source", str(COCO), "--detfile", KEYPOINTS, "--nms", "0.5"], "they need --source, not --detfile"),
    (["--prune-ratio", "0.5"], "--prune-ratio is the pruned backend's ratio: it needs pruned in --backends"),
    (["--backends", "torch,pruned", "--prune-ratio", "1.5"], "--prune-ratio takes a ratio strictly between 0 and 1"),
    (["--backends", "torch,pruned", "--calib", KEYPOINTS], "--calib gives the crops exports are checked on"),
    (["--calib", "{empty}"], "--calib: no images"),
    (["--calib", "{nobody}"], "has no people to crop"),
    (["--backends", "torch,tensorrt"], "unknown backend 'tensorrt'"),
    (["--batch", "0"], "batch sizes must be at least 1"),
]


@pytest.mark.parametrize(("args", "message"), BENCH_CASES)
def test_bench_refuses_before_fetching_weights(capsys, no_weights, args, message) -> None:
    paths = _bad_inputs(no_weights)
    code, err = akit(capsys, "bench", *(arg.format(**paths) for arg in args))
    assert code == 1 and err.startswith("akit: error: ") and len(err.strip().splitlines()) == 1, err
    assert message in err and "download" not in err


def test_bench_device_default_is_the_others() -> None:
    assert BenchOptions().device == InferOptions().device == EvalOptions().device == "auto"


def test_every_option_is_a_cli_flag() -> None:
    """The CLI is made from the dataclasses: each field (but the trailing --opts) is an option with its flags."""
    import dataclasses

    import typer

    from alphapose_kit.cli.app import app

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    for name, cls in (("export", ExportOptions), ("bench", BenchOptions)):
        params = {p.name: p for p in commands[name].params}
        for f in dataclasses.fields(cls):
            if f.name == "opts":
                continue
            flags = [part for flag in f.metadata["flags"] for part in flag.split("/")]
            assert set(flags) == {*params[f.name].opts, *params[f.name].secondary_opts}, (name, f.name)
            assert params[f.name].default == f.default, (name, f.name)
    assert params["device"].default == "auto"


def test_library_entry_points(tmp_path) -> None:
    """``deploy.export`` / ``deploy.bench`` are functions (not the modules of those names), called with options or
    keywords; they validate first and return what the CLI prints."""
    import importlib
    import pkgutil

    for module in pkgutil.iter_modules(alphapose_kit.deploy.__path__):
        importlib.import_module(f"alphapose_kit.deploy.{module.name}")
    assert callable(alphapose_kit.deploy.export) and callable(alphapose_kit.deploy.bench)
    ckpt = str(random_checkpoint(tmp_path / "tiny.pth"))
    run = alphapose_kit.deploy.export(config=COCO_CFG, checkpoint=ckpt, output=str(tmp_path / "m.onnx"), opts=TINY)
    assert run.exported is not None and run.pruned is None and (tmp_path / "m.onnx").is_file()
    assert run.lines()[-1].endswith(f"-> {tmp_path / 'm.onnx'}")
    options = BenchOptions(
        config=COCO_CFG, checkpoint=ckpt, backends="torch", batch="1", rounds=1, warmup=0, device="cpu",
        output=str(tmp_path / "b" / "bench.json"), opts=TINY,
    )  # fmt: skip
    result = alphapose_kit.deploy.bench(options)
    assert [(r["backend"], r["batch"]) for r in result.rows] == [("torch", 1)] and result.info["device"] == "cpu"
    with pytest.raises(AkitError, match="--rounds must be at least 1"):
        alphapose_kit.deploy.bench(rounds=0)
