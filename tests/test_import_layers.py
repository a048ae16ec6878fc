"""The package's layers (pyproject ``[tool.importlinter]``, checked by ``make lint-imports`` in CI): the contract
holds on the code, and it would catch an upward import or one between independent siblings."""

from __future__ import annotations

import grimp
import pytest
from importlinter import api
from importlinter.contracts.layers import LayersContract

from tests.paths import REPO


def _contract() -> LayersContract:
    config = api.read_configuration(str(REPO / "pyproject.toml"))
    (options,) = config["contracts_options"]
    return LayersContract(name=options["name"], session_options=config["session_options"], contract_options=options)


@pytest.fixture
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("alphapose_kit", cache_dir=None)


def test_the_code_keeps_the_layers(graph: grimp.ImportGraph) -> None:
    check = _contract().check(graph, verbose=False)
    assert check.kept, check.metadata


@pytest.mark.parametrize(
    ("importer", "imported"),
    [
        ("alphapose_kit.config.loader", "alphapose_kit.cli.app"),  # upwards across layers
        ("alphapose_kit.codecs.pose", "alphapose_kit.engine.estimator"),
        ("alphapose_kit.models.registry", "alphapose_kit.track.matching"),  # independent siblings
        ("alphapose_kit.config.loader", "alphapose_kit.utils.logging"),
        ("alphapose_kit.errors", "alphapose_kit.config"),  # errors is the bottom: usable everywhere, imports nothing
    ],
)
def test_the_contract_catches_a_forbidden_import(graph: grimp.ImportGraph, importer: str, imported: str) -> None:
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}")
    assert not _contract().check(graph, verbose=False).kept


def test_siblings_that_share_code_may_import_each_other(graph: grimp.ImportGraph) -> None:
    graph.add_import(
        importer="alphapose_kit.analysis.angles", imported="alphapose_kit.evaluation.metric", line_number=1,
        line_contents="import alphapose_kit.evaluation.metric",
    )  # fmt: skip
    assert _contract().check(graph, verbose=False).kept
