"""The pose NMS choices are one list (``alphapose_kit.ops.POSE_NMS``) that infer and eval both accept and check."""

from __future__ import annotations

import pytest

from alphapose_kit.engine import options as infer_options
from alphapose_kit.engine.options import PipelineOptions
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation import options as eval_options
from alphapose_kit.evaluation.options import EvalOptions
from alphapose_kit.ops import POSE_NMS


def test_infer_and_eval_share_one_list() -> None:
    assert infer_options.POSE_NMS is POSE_NMS and eval_options.POSE_NMS is POSE_NMS
    assert set(POSE_NMS) == {"pnms", "oks", "none"}


@pytest.mark.parametrize("choice", POSE_NMS)
def test_every_choice_is_accepted_by_both(choice: str) -> None:
    PipelineOptions(pose_nms=choice).validate()
    EvalOptions(coco="ann.json", images="images", pose_nms=choice).validate()


def test_an_unknown_choice_is_refused_by_both_with_the_same_line() -> None:
    expected = "unknown pose NMS 'xyz'; choose one of pnms, oks, none"
    with pytest.raises(AkitError, match=expected):
        PipelineOptions(pose_nms="xyz").validate()
    with pytest.raises(AkitError, match=expected):
        EvalOptions(coco="ann.json", images="images", pose_nms="xyz").validate()
