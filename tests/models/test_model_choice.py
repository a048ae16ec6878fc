"""An akit checkpoint runs with the config it was trained with; a given config that builds another network or feeds
it another input size is refused, naming the key. Official (bare state_dict) checkpoints keep the old defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from alphapose_kit.cli.app import main
from alphapose_kit.config import dump_config, load_config
from alphapose_kit.engine.checkpoints import FORMAT, save_checkpoint
from alphapose_kit.engine.predictor import PosePipeline
from alphapose_kit.errors import ConfigError
from alphapose_kit.io.results import alphapose_records
from alphapose_kit.models import build_pose_model
from alphapose_kit.models.choice import DEFAULT_CONFIG, network_difference, resolve_model_choice, stored_config
from alphapose_kit.models.loader import load_pose_model

SMALL = ["DATA_PRESET.IMAGE_SIZE", "[128,96]", "DATA_PRESET.HEATMAP_SIZE", "[32,24]"]
IMAGE = "000000000785.jpg"  # one person in the shared detections with score >= 0.5


def _train_like(path: Path, cfg) -> Path:
    """What ``akit train`` writes as best.pth: weights, the resolved YAML, counters (engine/checkpoints.py)."""
    torch.manual_seed(0)
    model = build_pose_model(cfg)
    with torch.no_grad():
        model.conv_out.bias.fill_(1.0)  # every joint scores about 1, so P-NMS keeps the person
    save_checkpoint(
        path,
        {"format": FORMAT, "state_dict": model.state_dict(), "config": dump_config(cfg), "epoch": 3,
         "global_step": 30, "best_ap": 0.1, "metrics": {}},
    )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def small_cfg():
    return load_config(DEFAULT_CONFIG, SMALL)


@pytest.fixture(scope="module")
def small_ckpt(tmp_path_factory, small_cfg) -> Path:
    return _train_like(tmp_path_factory.mktemp("train") / "best.pth", small_cfg)


@pytest.fixture(scope="module")
def one_box(tmp_path_factory, shared_data) -> Path:
    records = json.loads((shared_data / "coco" / "person_detections.json").read_text())
    kept = [r for r in records if r["score"] >= 0.5 and r["image_id"] == 785]
    path = tmp_path_factory.mktemp("det") / "dets.json"
    path.write_text(json.dumps(kept))
    return path


def _infer(capsys, *args: str) -> tuple[int, str]:
    code = main(["infer", *args])
    return code, capsys.readouterr().err


def _library_keypoints(cfg, ckpt: Path, detfile: Path, image: Path) -> list[float]:
    pipeline = PosePipeline(cfg, ckpt, detfile=detfile, device="cpu")
    (record,) = [r for result in pipeline.run(image) for r in alphapose_records(result)]
    return record["keypoints"]


def test_infer_without_config_runs_the_checkpoint_s_own(capsys, tmp_path, shared_data, small_ckpt, one_box, small_cfg):
    image = shared_data / "coco" / IMAGE
    out = tmp_path / "out"
    code, err = _infer(capsys, str(image), "-w", str(small_ckpt), "--detfile", str(one_box), "-o", str(out), "-q")
    assert code == 0, err
    (person,) = json.loads((out / "alphapose-results.json").read_text())
    # the library at the trained 128x96 gives these keypoints; the default 256x192 gives others
    at_128 = _library_keypoints(small_cfg, small_ckpt, one_box, image)
    assert person["keypoints"] == pytest.approx(at_128, abs=1e-4)
    at_256 = _library_keypoints(load_config(DEFAULT_CONFIG), _bare(tmp_path, small_ckpt), one_box, image)
    assert max(abs(a - b) for a, b in zip(person["keypoints"], at_256, strict=True)) > 1.0
    used = yaml.safe_load(json.loads((out / "run.json").read_text())["model"]["config"])
    assert used["DATA_PRESET"]["IMAGE_SIZE"] == [128, 96]


def _bare(tmp_path: Path, ckpt: Path) -> Path:
    """The same weights as a bare state_dict (no config), as official AlphaPose files are."""
    path = tmp_path / "bare.pth"
    torch.save(torch.load(ckpt, weights_only=True)["state_dict"], path)
    return path


def test_a_config_with_another_input_size_is_refused(capsys, tmp_path, shared_data, small_ckpt, one_box, small_cfg):
    other = small_cfg.clone()
    other.defrost()
    other.DATA_PRESET.IMAGE_SIZE = [256, 192]
    given = tmp_path / "big.yaml"
    given.write_text(dump_config(other))
    image = str(shared_data / "coco" / IMAGE)
    code, err = _infer(capsys, image, "-c", str(given), "-w", str(small_ckpt), "--detfile", str(one_box), "-q")
    assert code != 0 and err.count("\n") == 1 and err.startswith("akit: error:"), err
    assert "DATA_PRESET.IMAGE_SIZE" in err and "[256, 192]" in err and "[128, 96]" in err
    # the shipped 256x192 config: same network, so the input size is the first difference too
    code, err = _infer(capsys, image, "-c", DEFAULT_CONFIG, "-w", str(small_ckpt), "--detfile", str(one_box), "-q")
    assert code != 0 and "DATA_PRESET.IMAGE_SIZE" in err and "Traceback" not in err
    # --opts cannot change it behind the check's back either
    code, err = _infer(
        capsys, image, "-w", str(small_ckpt), "--detfile", str(one_box), "-q", "--opts", "DATA_PRESET.HEATMAP_SIZE",
        "[64,48]",
    )  # fmt: skip
    assert code != 0 and "DATA_PRESET.HEATMAP_SIZE" in err and err.count("\n") == 1, err
    assert not list(tmp_path.glob("runs"))


def test_a_config_with_another_network_names_the_model_key(tmp_path, small_ckpt, small_cfg) -> None:
    other = load_config(DEFAULT_CONFIG, [*SMALL, "MODEL.NUM_LAYERS", "101"])
    given = tmp_path / "r101.yaml"
    given.write_text(dump_config(other))
    with pytest.raises(ConfigError, match=r"MODEL\.NUM_LAYERS is 101 there but 50"):
        resolve_model_choice(str(given), str(small_ckpt))
    joints = load_config(DEFAULT_CONFIG, [*SMALL, "DATA_PRESET.NUM_JOINTS", "26"])
    assert network_difference(joints, small_cfg) == ("DATA_PRESET.NUM_JOINTS", 26, 17)
    # keys that do not shape the network (training schedule, dataset paths) are no difference
    trained_longer = load_config(DEFAULT_CONFIG, [*SMALL, "TRAIN.END_EPOCH", "7", "MODEL.PRETRAINED", "x.pth"])
    assert network_difference(trained_longer, small_cfg) is None
    with pytest.raises(ConfigError, match="NUM_LAYERS"):
        load_pose_model(other, small_ckpt)


def test_the_same_config_given_explicitly_is_accepted(tmp_path, small_ckpt, small_cfg) -> None:
    given = tmp_path / "same.yaml"
    given.write_text(dump_config(small_cfg))
    assert resolve_model_choice(str(given), str(small_ckpt)) == (str(given), str(small_ckpt))
    config, checkpoint = resolve_model_choice(None, str(small_ckpt))
    assert checkpoint == str(small_ckpt) and list(load_config(config).DATA_PRESET.IMAGE_SIZE) == [128, 96]


def test_official_bare_state_dicts_keep_the_defaults(tmp_path, small_ckpt) -> None:
    bare = _bare(tmp_path, small_ckpt)
    assert stored_config(bare) is None
    assert resolve_model_choice(None, str(bare)) == (DEFAULT_CONFIG, str(bare))
    assert resolve_model_choice(None, "fastpose_res50_256x192")[1] == "fastpose_res50_256x192"
    legacy = tmp_path / "legacy.pth"  # old torch.save format (a plain pickle), as some AlphaPose files are
    torch.save({"conv_out.bias": torch.zeros(17)}, legacy, _use_new_zipfile_serialization=False)
    assert stored_config(legacy) is None


def test_a_stored_config_that_is_not_valid_is_one_line(tmp_path) -> None:
    path = tmp_path / "odd.pth"
    save_checkpoint(path, {"format": FORMAT, "state_dict": {"w": torch.zeros(1)}, "config": "MODEL:\n  NO_SUCH: 1\n"})
    with pytest.raises(ConfigError, match="odd.pth: its stored config"):
        resolve_model_choice(None, str(path))


def test_export_and_bench_use_the_stored_config(capsys, tmp_path) -> None:
    from alphapose_kit.deploy.metadata import read_metadata
    from tests.deploy.nets import TINY

    cfg = load_config(DEFAULT_CONFIG, TINY)  # the tiny deploy test network at 128x96
    ckpt = _train_like(tmp_path / "best.pth", cfg)
    target = tmp_path / "pose.onnx"
    code = main(["export", "-w", str(ckpt), "--format", "onnx", "-o", str(target)])
    assert code == 0, capsys.readouterr().err
    assert read_metadata(target)["input_size"] == [128, 96]
    capsys.readouterr()
    code = main(["bench", "-w", str(ckpt), "--backends", "torch", "--batch", "1", "--rounds", "1", "--warmup", "0",
                 "--output", str(tmp_path / "bench")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "# TinyDUCDeployTest (ResNet-50, 17 joints), input [128, 96]," in out, out
