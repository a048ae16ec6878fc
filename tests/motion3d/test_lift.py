"""3D lifting: VideoPose3D's network and test-time procedure against its own code (golden), its checkpoint format,
and ``akit lift`` end to end on a tracked run with a gap."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from alphapose_kit.errors import CheckpointError
from alphapose_kit.motion3d.checkpoint import load_videopose3d
from alphapose_kit.motion3d.lifting import lift_track, normalise_screen
from alphapose_kit.motion3d.run import fill_gaps, lift
from alphapose_kit.motion3d.videopose3d import TemporalModel
from tests.models.golden_families import seeded_state_dict
from tests.paths import GOLDEN, REPO

ARCHITECTURES = {"f27": (3, 3, 3), "f243": (3, 3, 3, 3, 3)}


@pytest.fixture(scope="module")
def golden() -> dict[str, np.ndarray]:
    with np.load(GOLDEN / "videopose3d_golden.npz") as data:
        return dict(data)


def _model(widths) -> TemporalModel:
    model = TemporalModel(17, 2, 17, widths, channels=256)
    model.load_state_dict(seeded_state_dict(model.state_dict()), strict=True)
    return model.eval()


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_lifting_equals_videopose3d(name: str, golden) -> None:
    """tests/golden/make_videopose3d_golden.py ran VideoPose3D's TemporalModel and UnchunkedGenerator (README)."""
    model = _model(ARCHITECTURES[name])
    assert model.receptive_field == int(name[1:])
    width, height = golden["size"]
    flipped = lift_track(model, golden["keypoints"], width, height, flip=True)
    plain = lift_track(model, golden["keypoints"], width, height, flip=False)
    assert flipped.shape == plain.shape == (len(golden["keypoints"]), 17, 3)
    np.testing.assert_allclose(plain, golden[f"{name}__plain"], rtol=0, atol=2e-6)
    np.testing.assert_allclose(flipped, golden[f"{name}__flip"], rtol=0, atol=2e-6)
    assert np.abs(flipped - plain).max() > 1e-3  # the flip changes the answer, so the test sees it


def test_normalisation_is_videopose3ds_rule() -> None:
    xy = np.array([[0.0, 0.0], [1280.0, 720.0], [640.0, 360.0]])
    np.testing.assert_allclose(normalise_screen(xy, 1280, 720), [[-1, -0.5625], [1, 0.5625], [0, 0]])


def _save_videopose3d(path: Path, model: TemporalModel) -> None:
    """A checkpoint laid out as VideoPose3D's run.py saves one (legacy serialisation, NumPy random state)."""
    payload = {
        "epoch": 80,
        "lr": 0.0001,
        "random_state": np.random.RandomState(0).get_state(),
        "optimizer": {"state": {}, "param_groups": [{"lr": 0.001}]},
        "model_pos": model.state_dict(),
        "model_traj": None,
    }
    torch.save(payload, path, _use_new_zipfile_serialization=False)


def test_checkpoint_loads_with_its_architecture_and_refuses_code(tmp_path: Path) -> None:
    model = _model((3, 3, 3))
    path = tmp_path / "pretrained.bin"
    _save_videopose3d(path, model)
    loaded = load_videopose3d(path)
    assert loaded.filter_widths == (3, 3, 3) and loaded.receptive_field == 27
    for key, value in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[key], value), key

    class Payload:
        def __reduce__(self):
            return (subprocess.call, (["touch", str(tmp_path / "pwned")],))

    evil = tmp_path / "evil.bin"
    with evil.open("wb") as handle:
        pickle.dump({"model_pos": Payload()}, handle)
    with pytest.raises(CheckpointError):
        load_videopose3d(evil)
    assert not (tmp_path / "pwned").exists()


def test_gaps_are_filled_linearly() -> None:
    frames = np.array([3, 4, 7])
    kps = np.array([[[0.0, 0.0]], [[10.0, 20.0]], [[40.0, 50.0]]])
    scores = np.array([[0.9], [0.8], [0.7]])
    every, filled, filled_scores = fill_gaps(frames, kps, scores)
    assert every.tolist() == [3, 4, 5, 6, 7]
    np.testing.assert_allclose(filled[:, 0], [[0, 0], [10, 20], [20, 30], [30, 40], [40, 50]])
    assert filled_scores[:, 0].tolist() == [0.9, 0.8, 0.0, 0.0, 0.7]


def _run_folder(tmp_path: Path, golden) -> Path:
    """A tracked run: person 0 walks the golden walk (frames 0-49, frame 20 missed), person 5 appears at 30-39."""
    run = tmp_path / "run"
    run.mkdir()
    records = []
    for f, pose in enumerate(golden["keypoints"]):
        people = [] if f == 20 else [(0, pose)]
        if 30 <= f < 40:
            people.append((5, pose + np.array([400.0, 0.0])))
        for idx, kp in people:
            triples = np.concatenate([kp, np.full((17, 1), 0.8)], 1)
            box = [*kp.min(0), *(kp.max(0) - kp.min(0))]
            records.append({"image_id": f"{f}.jpg", "category_id": 1, "keypoints": triples.reshape(-1).tolist(),
                            "score": 2.0, "box": box, "idx": idx})  # fmt: skip
    (run / "alphapose-results.json").write_text(json.dumps(records))
    info = {"source": "walk.mp4", "fps": 25.0, "frames": 50, "width": 1280, "height": 720,
            "model": {"keypoint_set": "coco17"}, "options": {"track": True}}  # fmt: skip
    (run / "run.json").write_text(json.dumps(info))
    return run


def test_lift_command_end_to_end(tmp_path: Path, golden) -> None:
    run = _run_folder(tmp_path, golden)
    model = _model((3, 3, 3))
    weights = tmp_path / "lifter.bin"
    _save_videopose3d(weights, model)
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, "-m", "alphapose_kit", "lift", str(run), "-w", str(weights), "-o", str(out), "--device=cpu"],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = json.loads((out / "poses3d.json").read_text())
    by_track = {i: [r for r in records if r["idx"] == i] for i in (0, 5)}
    assert [r["frame"] for r in by_track[0]] == list(range(50))  # frame 20 filled in
    assert [r["frame"] for r in by_track[5]] == list(range(30, 40))
    frame20 = np.asarray(by_track[0][20]["keypoints3d"]).reshape(17, 4)
    assert np.all(frame20[:, 3] == 0)  # an interpolated frame has no score
    _, filled, _ = fill_gaps(np.array([f for f in range(50) if f != 20]),
                             np.delete(golden["keypoints"], 20, axis=0), np.full((49, 17), 0.8))  # fmt: skip
    expected = lift_track(model, filled, 1280, 720)
    got = np.array([np.asarray(r["keypoints3d"]).reshape(17, 4)[:, :3] for r in by_track[0]])
    np.testing.assert_allclose(got, expected, atol=2e-6)
    again = subprocess.run(
        [sys.executable, "-m", "alphapose_kit", "lift", str(run), "-w", str(weights), "-o", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert again.returncode != 0 and again.stderr.startswith("akit: error:") and "--exist-ok" in again.stderr


def test_lift_refuses_unknown_frame_size_in_one_line(tmp_path: Path, golden) -> None:
    run = _run_folder(tmp_path, golden)
    (run / "run.json").unlink()
    with pytest.raises(Exception, match="--width and --height"):
        lift(results=str(run), checkpoint=str(tmp_path / "none.bin"))
