"""Every verb, every option, a table of bad values: one ``akit: error:`` line, a non-zero exit, never a traceback.

The verbs and their options are read from the Typer app itself, so a new option is covered the day it is added.
Inputs are paths that do not exist and weights cannot be fetched (AKIT_HOME is empty and the downloader refuses), so
whichever check a value reaches, the command must stop with one line; an exception escaping ``main`` fails here.
``akit serve`` is left to tests/serve (a valid port would start a server) and ``models download`` needs the network.
"""

from __future__ import annotations

import pytest
import typer.main

from alphapose_kit.cli.app import app, main
from alphapose_kit.errors import DownloadError
from tests.cli.test_app import VERBS

BAD = ("-1", "0", "nan", "1e400", "abc", "{missing}", "{folder}")
SKIP = {("serve",), ("models", "download")}


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    elif path not in SKIP:
        yield path, command


COMMANDS = list(_commands(typer.main.get_command(app)))
CASES = [
    (path, option.opts[0], value)
    for path, command in COMMANDS
    for option in command.params
    if getattr(option, "param_type_name", "") == "option" and not getattr(option, "is_flag", False)
    for value in BAD
]


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)

    def refuse(*args, **kwargs):
        raise DownloadError("no network in this test")

    monkeypatch.setattr("alphapose_kit.hub.download.download", refuse)


def _positionals(command, missing: str) -> list[str]:
    return [missing for p in command.params if getattr(p, "param_type_name", "") == "argument"]


def test_every_verb_has_options_to_try() -> None:
    verbs = {path[0] for path, _ in COMMANDS}
    assert VERBS - {"serve"} <= verbs  # serve: tests/serve
    assert len(CASES) > 7 * 150


@pytest.mark.parametrize(("path", "flag", "value"), CASES, ids=[f"{' '.join(p)} {f} {v}" for p, f, v in CASES])
def test_a_bad_value_is_one_line(path, flag, value, tmp_path, capsys) -> None:
    command = dict(COMMANDS)[path]
    missing = str(tmp_path / "missing.mp4")
    (tmp_path / "folder").mkdir(exist_ok=True)
    value = value.format(missing=str(tmp_path / "missing-file"), folder=str(tmp_path / "folder"))
    quiet = ["-q"] if any("-q" in getattr(p, "opts", ()) for p in command.params) else []
    code = main([*path, *_positionals(command, missing), flag, value, *quiet])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code != 0, f"akit {' '.join(path)} {flag} {value} exited 0"
    errors = [line for line in err.splitlines() if line.startswith("akit: error:")]
    assert len(errors) == 1, err
