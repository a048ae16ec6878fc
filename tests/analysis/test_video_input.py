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


def test_video_with_infer_s_model_flags_works_offline(tmp_path, monkeypatch, capsys) -> None:
    """-w, --detfile and --device reach the inference (declared once, in InferOptions): nothing is fetched."""
    from tests.cli.test_infer import confident_checkpoint

    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "empty-home"))  # no cached weights: a default model would fail
    ckpt = confident_checkpoint(tmp_path / "pose.pth", "coco/fastpose_res50_256x192")
    dets = tmp_path / "dets.json"
    dets.write_text(json.dumps([{"image_id": f"{f}.jpg", "bbox": [100.0, 150.0, 80.0, 200.0], "score": 0.9}
                                for f in range(5)]))  # fmt: skip
    out = tmp_path / "angles"
    video = str(DATA / "video" / "people_walking.mp4")
    flags = ["-w", str(ckpt), "--detfile", str(dets), "--device", "cpu", "--batch", "8"]
    code = main(["analyze", "angles", video, *flags, "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    info = json.loads((out / "inference" / "run.json").read_text())
    assert info["model"]["checkpoint"] == str(ckpt) and info["options"]["detfile"] == str(dets)
    assert info["options"]["batch"] == 8 and info["options"]["track"] is True and info["status"] == "done"
    rows = (out / "angles.csv").read_text().splitlines()[1:]
    assert sorted({int(r.split(",")[1]) for r in rows}) == [0, 1, 2, 3, 4]  # one tracked person on every frame
