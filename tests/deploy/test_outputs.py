"""Where ``akit export`` writes: a pruned pair named by either file, loading back through every command that takes a
config + checkpoint; an existing output refused unless --exist-ok; a failed export leaves no folder behind."""

from __future__ import annotations

import json

import pytest
import torch

from alphapose_kit.deploy.files import staged
from alphapose_kit.deploy.metadata import read_metadata
from alphapose_kit.errors import AkitError
from alphapose_kit.models.loader import load_pose_model
from tests.deploy.nets import TINY
from tests.deploy.test_cli import akit
from tests.paths import COCO

CFG = ["--cfg", "coco/fastpose_res50_256x192"]
IMAGE = str(COCO / "000000196141.jpg")
DETFILE = str(COCO / "person_detections.json")
KEYPOINTS = str(COCO / "person_keypoints.json")


def test_prune_output_named_by_its_pth_loads_back_everywhere(capsys, tmp_path, ckpt) -> None:
    pth = tmp_path / "pruned.pth"
    code, out, err = akit(
        capsys, "export", *CFG, "-w", ckpt, "--prune", "0.5", "-o", str(pth), "--opts", *TINY
    )  # fmt: skip
    assert code == 0, err
    yaml = tmp_path / "pruned.yaml"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pruned.pth", "pruned.yaml"]
    assert f"wrote {yaml} and {pth}" in out
    pair = ["-c", str(yaml), "-w", str(pth)]
    code, _, err = akit(capsys, "infer", IMAGE, *pair, "--detfile", DETFILE, "--device", "cpu", "-q",
                        "-o", str(tmp_path / "infer"))  # fmt: skip
    assert code == 0, err
    people = json.loads((tmp_path / "infer" / "alphapose-results.json").read_text())
    assert len(people) > 0 and len(people[0]["keypoints"]) == 17 * 3
    code, _, err = akit(capsys, "export", *pair, "-o", str(tmp_path / "pruned.onnx"))
    assert code == 0, err
    assert read_metadata(tmp_path / "pruned.onnx")["input_size"] == [128, 96]
    code, _, err = akit(capsys, "bench", *pair, "--backends", "torch", "--batch", "1", "--rounds", "1",
                        "--warmup", "0", "--device", "cpu", "-o", str(tmp_path / "bench" / "b.json"))  # fmt: skip
    assert code == 0, err
    code, _, err = akit(capsys, "eval", "--coco", KEYPOINTS, "--images", str(COCO), *pair, "--device", "cpu",
                        "--workers", "0", "-q", "-o", str(tmp_path / "eval"))  # fmt: skip
    assert code == 0, err
    # the .pth is a checkpoint with its weights and its config, the YAML says the same network
    payload = torch.load(pth, weights_only=True)
    assert "PRUNED_WIDTHS" in payload["config"] and set(payload["state_dict"]) == set(
        load_pose_model(yaml).state_dict()
    )


def test_prune_output_named_by_its_yaml(capsys, tmp_path, ckpt) -> None:
    code, _, err = akit(capsys, "export", *CFG, "-w", ckpt, "--prune", "0.3", "-o", str(tmp_path / "p.yml"),
                        "--opts", *TINY)  # fmt: skip
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.pth", "p.yml"]
    model = load_pose_model(tmp_path / "p.yml", tmp_path / "p.pth")
    assert model(torch.zeros(1, 3, 128, 96)).shape == (1, 17, 32, 24)


def test_existing_output_needs_exist_ok(capsys, tmp_path, ckpt) -> None:
    target = tmp_path / "pose.onnx"
    target.write_bytes(b"an earlier file")
    export = ["export", *CFG, "-w", ckpt, "-o", str(target)]
    code, _, err = akit(capsys, *export, "--opts", *TINY)
    assert code == 1 and f"{target} already exists; pass --exist-ok" in err and len(err.strip().splitlines()) == 1
    assert target.read_bytes() == b"an earlier file"
    code, _, err = akit(capsys, *export, "--exist-ok", "--opts", *TINY)
    assert code == 0, err
    assert read_metadata(target)["kind"] == "pose"
    # the pruned pair and the export beside it: refused as a whole before pruning, when any of them exists
    (tmp_path / "small.onnx").write_bytes(b"x")
    prune = ["export", *CFG, "-w", ckpt, "--prune", "0.3", "--format", "onnx", "-o", str(tmp_path / "small.yaml")]
    code, _, err = akit(capsys, *prune, "--opts", *TINY)
    assert code == 1 and "small.onnx already exists" in err
    assert not (tmp_path / "small.yaml").exists() and not (tmp_path / "small.pth").exists()
    code, _, err = akit(capsys, *prune, "--exist-ok", "--opts", *TINY)
    assert code == 0, err
    assert read_metadata(tmp_path / "small.onnx")["model"]


def test_failed_export_leaves_no_folder(capsys, tmp_path, ckpt, monkeypatch) -> None:
    dcn = ["MODEL.STAGE_WITH_DCN", "[false,true,true,true]"]
    deep = tmp_path / "new" / "deeper" / "m.onnx"
    code, _, err = akit(capsys, "export", *CFG, "-w", ckpt, "--opset", "17", "-o", str(deep), "--opts", *dcn)
    assert code == 1 and "needs --opset 19" in err
    assert list(tmp_path.iterdir()) == []
    monkeypatch.chdir(tmp_path)
    code, _, err = akit(capsys, "export", *CFG, "-w", ckpt, "--opset", "17", "--opts", *dcn)
    assert code == 1 and "needs --opset 19" in err
    assert list(tmp_path.iterdir()) == []


def test_staged_removes_every_folder_it_made(tmp_path) -> None:
    target = tmp_path / "runs" / "export" / "exp" / "m.onnx"
    with pytest.raises(AkitError), staged(target) as tmp:
        tmp.write_bytes(b"half")
        raise AkitError("the check failed")
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "keep.txt").write_text("an earlier run's file")
    with pytest.raises(AkitError), staged(target) as tmp:
        raise AkitError("the check failed")
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["keep.txt"]
    with staged(target) as tmp:
        tmp.write_bytes(b"whole")
    assert target.read_bytes() == b"whole"
