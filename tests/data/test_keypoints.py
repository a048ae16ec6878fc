"""Keypoint sets: the built-in COCO-17 / Halpe-26 facts and the custom-set path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from alphapose_kit.config import load_config
from alphapose_kit.data import keypoints as keypoints_module
from alphapose_kit.data.keypoints import (
    COCO17,
    HALPE26,
    KeypointSet,
    get_keypoint_set,
    keypoint_set_for,
    register_keypoint_set,
)
from alphapose_kit.errors import ConfigError


def test_coco17_facts() -> None:
    assert COCO17.num_joints == 17
    assert COCO17.names[5] == "left_shoulder" and COCO17.names[16] == "right_ankle"
    # every pair is (left, right) with the same body part
    for a, b in COCO17.flip_pairs:
        assert COCO17.names[a].replace("left", "X") == COCO17.names[b].replace("right", "X")
    assert COCO17.sigmas[0] == pytest.approx(0.026) and COCO17.sigmas[11] == pytest.approx(0.107)
    assert len(COCO17.skeleton) == 15 and (17, 11) in COCO17.skeleton  # neck (virtual joint 17) to left hip


def test_halpe26_extends_coco() -> None:
    assert HALPE26.names[:17] == COCO17.names
    assert HALPE26.names[17:20] == ("head", "neck", "hip")
    assert (20, 21) in HALPE26.flip_pairs and (24, 25) in HALPE26.flip_pairs
    assert HALPE26.sigmas[17] == pytest.approx(0.08) and HALPE26.sigmas[25] == pytest.approx(0.089)
    assert HALPE26.neck_from is None  # Halpe has a real neck joint


def test_flip_permutation_is_an_involution() -> None:
    for kps in (COCO17, HALPE26):
        perm = kps.flip_permutation()
        assert np.array_equal(perm[perm], np.arange(kps.num_joints))
        assert perm[5] == 6 and perm[0] == 0


def test_lookup_by_name_count_and_dataset_type() -> None:
    assert get_keypoint_set(26) is HALPE26
    assert get_keypoint_set("coco17") is COCO17
    assert keypoint_set_for(26, dataset_type="Halpe_26") is HALPE26
    with pytest.raises(ConfigError, match="has 17 joints but DATA_PRESET.NUM_JOINTS is 26"):
        keypoint_set_for(26, set_name="coco17")
    with pytest.raises(ConfigError, match="no keypoint set with 5 joints"):
        get_keypoint_set(5)


def test_custom_set_from_json_and_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = {
        "name": "hand5",
        "names": ["thumb", "index", "middle", "ring", "little"],
        "flip_pairs": [],
        "skeleton": [[0, 1], [1, 2], [2, 3], [3, 4]],
        "sigmas": [0.03] * 5,
    }
    path = tmp_path / "hand5.json"
    path.write_text(json.dumps(spec))
    custom = get_keypoint_set(str(path))
    assert custom.num_joints == 5 and custom.skeleton[-1] == (3, 4)
    cfg = load_config(None, opts=["DATA_PRESET.NUM_JOINTS", "5", "DATA_PRESET.KEYPOINT_SET", str(path)])
    from alphapose_kit.data.keypoints import keypoint_set_of

    assert keypoint_set_of(cfg).names == custom.names
    monkeypatch.setattr(keypoints_module, "_REGISTRY", dict(keypoints_module._REGISTRY))  # leave no set behind
    register_keypoint_set(custom)
    assert get_keypoint_set("hand5") == custom


def test_invalid_custom_sets_are_rejected() -> None:
    with pytest.raises(ConfigError, match="sigmas"):
        KeypointSet("bad", ("a", "b"), (), (), (0.1,))
    with pytest.raises(ConfigError, match="flip pair"):
        KeypointSet("bad", ("a", "b"), ((0, 2),), (), (0.1, 0.1))
    with pytest.raises(ConfigError, match="skeleton edge"):
        KeypointSet("bad", ("a", "b"), (), ((0, 5),), (0.1, 0.1))
