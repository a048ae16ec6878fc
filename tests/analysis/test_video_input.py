"""``akit analyze`` given a video runs ``akit infer --track`` first (default models from the cache), then analyses."""

from __future__ import annotations

import json

import torch

from alphapose_kit.cli.app import main
from alphapose_kit.config import load_config
from alphapose_kit.detectors.nets.darknet import save_darknet_weights
from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp
from alphapose_kit.hub import zoo
from alphapose_kit.models import build_pose_model
from tests.paths import DATA


def test_video_is_inferred_with_tracking_then_analysed(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    pose = zoo.weights_path(zoo.get_entry("fastpose_res50_256x192"))
    pose.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(build_pose_model(load_config("coco/fastpose_res50_256x192")).state_dict(), pose)
    save_darknet_weights(build_yolov3_spp(), zoo.weights_path(zoo.get_entry("yolov3-spp")))
    out = tmp_path / "angles"
    code = main(["analyze", "angles", str(DATA / "video" / "people_walking.mp4"), "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    info = json.loads((out / "inference" / "run.json").read_text())
    assert info["options"]["track"] is True and (info["frames"], info["fps"]) == (5, 5.0)
    assert (out / "angles.csv").read_text().splitlines()[0].startswith("track_id")
