"""Device strings: auto/cpu/cuda:N, and a one-line error when CUDA is asked for but absent."""

from __future__ import annotations

import pytest
import torch

from alphapose_kit.errors import AkitError
from alphapose_kit.utils.device import resolve_device


def test_cpu_and_auto() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_bad_strings() -> None:
    for bad in ("gpu", "cuda:x", "tpu:0"):
        with pytest.raises(AkitError, match="bad device"):
            resolve_device(bad)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_absent_is_one_line() -> None:
    with pytest.raises(AkitError) as err:
        resolve_device("cuda:0")
    assert "CUDA is not available" in str(err.value) and "\n" not in str(err.value)
