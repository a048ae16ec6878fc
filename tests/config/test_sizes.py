"""The multiple-of-32 rule is one function (config/sizes.py) that the config, infer's options, the detector and HRNet
all apply (HRNet's input check: tests/models/test_hrnet.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.config.sizes import check_multiple_of_32, is_multiple_of_32
from alphapose_kit.detectors.yolo import YOLODetector
from alphapose_kit.engine.options import PipelineOptions
from alphapose_kit.errors import AkitError, ConfigError


@pytest.mark.parametrize(
    ("value", "expected"),
    [(32, True), (608, True), (np.int64(256), True), (256.0, True), (100, False), (0, False), (-32, False),
     (True, False), ("64", False), (None, False)],
)  # fmt: skip
def test_is_multiple_of_32(value: object, expected: bool) -> None:
    assert is_multiple_of_32(value) is expected


def test_check_names_the_value_in_one_line() -> None:
    check_multiple_of_32(640, "--det-size")
    with pytest.raises(AkitError, match=r"^--det-size must be a positive multiple of 32, got 100$"):
        check_multiple_of_32(100, "--det-size")


def test_every_site_applies_the_rule() -> None:
    with pytest.raises(ConfigError, match="multiples of 32"):
        load_config("coco/fastpose_res50_256x192", ["DATA_PRESET.IMAGE_SIZE", "[250, 192]"])
    with pytest.raises(AkitError, match="--det-size must be a positive multiple of 32, got 100"):
        PipelineOptions(det_size=100).validate()
    with pytest.raises(AkitError, match="detector input_size must be a positive multiple of 32, got 100"):
        YOLODetector(torch.nn.Identity(), input_size=100)
