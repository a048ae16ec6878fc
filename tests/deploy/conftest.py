"""The export tests' shared fixture: a random tiny FastPose checkpoint, made once per module."""

from __future__ import annotations

import pytest

from tests.deploy.nets import random_checkpoint


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> str:
    return str(random_checkpoint(tmp_path_factory.mktemp("ckpt") / "tiny.pth"))
