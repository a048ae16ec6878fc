"""Shared fixtures; the suite stops at once, with one line, when the team's data beside the repository is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.paths import DATA, SHARED

torch.set_num_threads(max(1, min(2, torch.get_num_threads())))


def pytest_sessionstart(session: pytest.Session) -> None:
    """Every run needs ../shared (CI always has it): say so once instead of failing or skipping test by test."""
    if not DATA.is_dir():
        pytest.exit(f"team data folder missing: {DATA} (clone the repository beside {SHARED.name}/)", returncode=4)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    return DATA
