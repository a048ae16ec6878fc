"""``akit infer`` over a recursive glob whose folders repeat file names (PoseTrack18's 000000.jpg): every frame and
every person reaches every output (the writer-level checks, COCO ids included, are in tests/io/test_writers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alphapose_kit.cli.app import main
from tests.cli.test_infer import COCO_CFG, SMALL, confident_checkpoint
from tests.paths import DATA

POSETRACK = DATA / "posetrack18"
FRAMES = sorted(p.relative_to(POSETRACK).as_posix() for p in POSETRACK.rglob("*.jpg"))


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    """A confident random pose model and a detfile with k + 1 well-separated boxes on the k-th frame."""
    folder = tmp_path_factory.mktemp("posetrack")
    records = [
        {"image_id": name, "bbox": [100.0 + 300 * j, 100.0, 120.0, 300.0], "score": 0.9}
        for k, name in enumerate(FRAMES)
        for j in range(k % 3 + 1)
    ]
    (folder / "dets.json").write_text(json.dumps(records))
    return confident_checkpoint(folder / "pose.pth", COCO_CFG), folder / "dets.json"


def run(capsys, out: Path, inputs: tuple[Path, Path], *flags: str) -> None:
    ckpt, dets = inputs
    args = [str(POSETRACK / "**" / "*.jpg"), "--checkpoint", str(ckpt), "--detfile", str(dets), "--outdir", str(out)]
    code = main(["infer", *args, "--device", "cpu", "-q", "--pose-nms", "none", *flags, *SMALL])
    assert code == 0, capsys.readouterr().err


def test_repeated_file_names_keep_every_frame_in_every_output(capsys, tmp_path, inputs) -> None:
    assert len({Path(name).name for name in FRAMES}) < len(FRAMES)  # the case: 000000.jpg in four folders
    out = tmp_path / "openpose"
    run(capsys, out, inputs, "--format", "openpose", "--save-img")
    results = json.loads((out / "alphapose-results.json").read_text())
    assert list(results) == FRAMES
    assert [len(results[name]["people"]) for name in FRAMES] == [k % 3 + 1 for k in range(len(FRAMES))]
    for name in FRAMES:
        sep = json.loads((out / "sep-json" / Path(name).with_suffix(".json")).read_text())
        assert sep == results[name]
        assert (out / "vis" / name).is_file()
