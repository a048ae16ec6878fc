"""A fixture for tests that train: one intra-op thread (on a shared 2-core machine two spinning threads are several
times slower). Import ``one_thread`` into a test module to use it there for every test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
