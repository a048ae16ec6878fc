"""``akit --help`` names the verbs that are really there."""

from __future__ import annotations

import re

from alphapose_kit.cli.app import app, main

VERBS = {"infer", "eval", "train", "export", "bench", "analyze", "models", "calibrate", "triangulate", "lift", "serve"}


def test_root_help_lists_every_verb(capsys) -> None:
    verbs = {c.name or c.callback.__name__ for c in app.registered_commands} | {g.name for g in app.registered_groups}
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    listed = re.search(r"pipeline: ([a-z, ]+)\.", " ".join(out.split()))
    assert listed is not None, out
    assert set(listed.group(1).split(", ")) == verbs == VERBS
