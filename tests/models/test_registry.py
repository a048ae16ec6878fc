"""The pose-model registry: a MODEL.TYPE belongs to one builder; taking a held name is refused in one line."""

from __future__ import annotations

import pytest
from torch import nn

from alphapose_kit.config import load_config
from alphapose_kit.errors import AkitError
from alphapose_kit.models import registry


@pytest.fixture(autouse=True)
def scratch_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """The built-in builders in a copy, so this file's registrations do not outlive it."""
    registry.registered_model_types()
    monkeypatch.setattr(registry, "_BUILDERS", dict(registry._BUILDERS))


def test_a_held_name_is_refused_and_keeps_its_builder() -> None:
    def imposter(cfg) -> nn.Module:
        return nn.Identity()

    with pytest.raises(AkitError, match=r"^MODEL.TYPE 'FastPose' is already registered by alphapose_kit\.models\."):
        registry.register_pose_model("FastPoseTwin", "FastPose")(imposter)
    assert "FastPoseTwin" not in registry.registered_model_types()  # all names or none
    model = registry.build_pose_model(load_config("coco/fastpose_res50_256x192"))
    assert not isinstance(model, nn.Identity)


def test_a_new_name_registers_and_the_same_builder_may_repeat() -> None:
    def builder(cfg) -> nn.Module:
        return nn.Identity()

    registry.register_pose_model("IdentityTest")(builder)
    registry.register_pose_model("IdentityTest")(builder)  # importing the same definition twice is harmless
    cfg = load_config("coco/fastpose_res50_256x192", ["MODEL.TYPE", "IdentityTest"])
    assert isinstance(registry.build_pose_model(cfg), nn.Identity)
