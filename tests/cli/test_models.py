"""``akit models ...`` and the CLI's error contract: one line on stderr, non-zero exit, no traceback."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from alphapose_kit.cli.app import main
from alphapose_kit.config import load_config
from alphapose_kit.hub import zoo
from alphapose_kit.models import build_pose_model


def run_cli(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "akit"))
    return tmp_path / "akit"


@pytest.fixture
def file_server(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_help_lists_commands(capsys) -> None:
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0 and "infer" in out and "models" in out
    code, out, _ = run_cli(capsys, "--version")
    assert code == 0 and out.startswith("akit 0.")


def test_models_list_and_info(capsys, home) -> None:
    code, out, _ = run_cli(capsys, "models", "list")
    assert code == 0
    for name in (
        "fastpose_res50_256x192",
        "hrnet_w32_256x192",
        "halpe26_fastpose_res50_256x192",
        "yolov3-spp",
        "yolov5s",
    ):
        assert name in out
    code, out, _ = run_cli(capsys, "models", "info", "fastpose_dcn_res50_256x192")
    assert code == 0
    assert "1zUz9YIk6eALCbZrukxD7kQ554nhi1pVv" in out and "fast_dcn_res50_256x192.pth" in out and str(home) in out


def test_unknown_model_is_one_line(capsys, home) -> None:
    code, out, err = run_cli(capsys, "models", "info", "fastpose_res50_265x192")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "fastpose_res50_256x192" in err and "Traceback" not in err


def test_models_download_from_local_server(capsys, home, file_server, monkeypatch) -> None:
    root, url = file_server
    payloads = {}
    for name in ("fastpose_res50_256x192", "yolov3-spp"):  # the README's example
        entry = zoo.get_entry(name)
        payloads[entry.filename] = name.encode() * 4096
        (root / entry.filename).write_bytes(payloads[entry.filename])
        monkeypatch.setitem(zoo._REGISTRY, name, dataclasses.replace(entry, urls=(f"{url}/{entry.filename}",)))
    code, out, err = run_cli(capsys, "models", "download", "fastpose_res50_256x192", "yolov3-spp")
    assert code == 0, err
    for filename, payload in payloads.items():
        assert (home / "weights" / filename).read_bytes() == payload
        assert str(home / "weights" / filename) in out
    assert err.count("sha256") >= 2  # printed so the user can pin it


def test_models_download_offline_is_one_line(capsys, home, monkeypatch) -> None:
    entry = dataclasses.replace(zoo.get_entry("yolov5n"), urls=("http://127.0.0.1:9/yolov5n.pt",))
    monkeypatch.setitem(zoo._REGISTRY, "yolov5n", entry)
    code, _, err = run_cli(capsys, "models", "download", "yolov5n")
    assert code == 1 and err.count("\n") == 1
    assert "http://127.0.0.1:9/yolov5n.pt" in err and str(home / "weights" / "yolov5n.pt") in err


def test_models_verify_loads_strictly(capsys, tmp_path, home) -> None:
    cfg = load_config("coco/simplepose_res50_256x192")
    path = tmp_path / "simple_res50_256x192.pth"
    torch.save(build_pose_model(cfg).state_dict(), path)
    code, out, err = run_cli(capsys, "models", "verify", str(path))
    assert code == 0, err
    assert "zoo file:   simplepose_res50_256x192 by file name only" in out
    assert "loads into: simplepose_res50_256x192 (strictly" in out and "SimplePose (ResNet-50, 17 joints)" in out
    wrong = tmp_path / "fast_res50_256x192.pth"  # a SimplePose file under FastPose's name
    wrong.write_bytes(path.read_bytes())
    code, _, err = run_cli(capsys, "models", "verify", str(wrong))
    assert code == 1 and err.count("\n") == 1
    assert "named like zoo model fastpose_res50_256x192" in err and "loads into simplepose_res50_256x192" in err
    code, out, err = run_cli(capsys, "models", "verify", str(wrong), "--cfg", "coco/simplepose_res50_256x192")
    assert code == 0, err
    assert "loads into: coco/simplepose_res50_256x192" in out  # checked against the given config, not the zoo
    code, out, err = run_cli(capsys, "models", "verify", str(path), "--cfg", "coco/hrnet_w32_256x192")
    assert code == 1 and "loads into: nothing known" in out


def test_models_verify_random_bytes_and_unknown_checkpoints(capsys, tmp_path) -> None:
    noise = tmp_path / "noise.pth"
    noise.write_bytes(bytes(range(256)) * 64)  # starts with 00 01 02 03: no checkpoint magic, no darknet header
    code, out, err = run_cli(capsys, "models", "verify", str(noise))
    assert code == 1 and "format:     not a checkpoint" in out
    assert err.count("\n") == 1 and "is not a checkpoint: neither a PyTorch file" in err
    unknown = tmp_path / "mine.pth"
    torch.save({"layer.weight": torch.zeros(3, 3), "layer.bias": torch.zeros(3)}, unknown)
    code, out, err = run_cli(capsys, "models", "verify", str(unknown))
    assert code == 1 and "PyTorch state_dict, 2 tensors (looks like unknown network)" in out
    assert "loads into: nothing known" in out and "loads into no zoo network" in err


def test_console_script_errors_without_traceback(tmp_path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alphapose_kit", "models", "info", "nope"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert result.stderr.startswith("akit: error:") and result.stderr.count("\n") == 1


def test_models_verify_uses_a_training_checkpoint_s_own_config(capsys, tmp_path) -> None:
    from alphapose_kit.config import dump_config
    from alphapose_kit.engine.checkpoints import FORMAT, save_checkpoint

    cfg = load_config("coco/simplepose_res50_256x192", ["DATA_PRESET.IMAGE_SIZE", "[128,96]"])
    path = tmp_path / "best.pth"
    state = build_pose_model(cfg).state_dict()
    save_checkpoint(path, {"format": FORMAT, "state_dict": state, "config": dump_config(cfg), "epoch": 1})
    code, out, err = run_cli(capsys, "models", "verify", str(path))
    assert code == 0, err
    assert "akit training checkpoint of SimplePose (ResNet-50, 17 joints) at 128x96" in out
    assert "loads into: its stored config (SimplePose (ResNet-50, 17 joints), input 128x96)" in out
    code, out, err = run_cli(capsys, "models", "verify", str(path), "--cfg", "coco/simplepose_res50_256x192")
    assert code == 1 and err.count("\n") == 1 and "DATA_PRESET.IMAGE_SIZE is [256, 192] there but [128, 96]" in err


def test_models_verify_names_torchscript_and_onnx_exports(capsys, tmp_path) -> None:
    from tests.deploy.nets import TINY, random_checkpoint

    ckpt = random_checkpoint(tmp_path / "tiny.pth")
    for fmt, name in (("torchscript", "pose.pt"), ("onnx", "pose.onnx")):
        target = tmp_path / name
        code, _, err = run_cli(
            capsys, "export", "--cfg", "coco/fastpose_res50_256x192", "-w", str(ckpt), "--format", fmt,
            "--output", str(target), "--opts", *TINY,
        )  # fmt: skip
        assert code == 0, err
        code, out, err = run_cli(capsys, "models", "verify", str(target))
        assert code == 0, err
        kind = "TorchScript" if fmt == "torchscript" else "ONNX"
        assert f"format:     {kind} export (looks like pose network TinyDUCDeployTest" in out, out
        assert "input 128x96, fp32" in out and f"use with:   akit infer --pose-model {name}" in out
        cut = tmp_path / f"cut-{name}"
        cut.write_bytes(target.read_bytes()[:2000])
        code, out, err = run_cli(capsys, "models", "verify", str(cut))
        assert code == 1 and err.count("\n") == 1 and "Traceback" not in err
