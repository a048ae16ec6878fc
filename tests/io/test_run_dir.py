"""The one output-folder rule: the next free runs/<task>/expN, refusal, --exist-ok removing only known outputs, and
no empty folder after a failure."""

from __future__ import annotations

import pytest

from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_dir import claim_outdir, next_run_dir, run_dir

OUTPUTS = ("results.json", "vis", "AlphaPose_*.mp4")


def test_next_run_dir_counts_exp_exp2_exp3(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert str(next_run_dir("eval")) == "runs/eval/exp"
    (tmp_path / "runs" / "eval" / "exp").mkdir(parents=True)
    (tmp_path / "runs" / "eval" / "exp2").mkdir()
    assert str(next_run_dir("eval")) == "runs/eval/exp3"
    assert not (tmp_path / "runs" / "eval" / "exp3").exists()  # picked, not created


def test_an_outdir_with_outputs_is_refused_then_replaced_file_by_file(tmp_path) -> None:
    out = tmp_path / "out"
    (out / "vis" / "sub").mkdir(parents=True)
    (out / "vis" / "sub" / "old.jpg").write_bytes(b"x")
    (out / "results.json").write_text("[]")
    (out / "AlphaPose_clip.mp4").write_bytes(b"x")
    (out / "notes.txt").write_text("mine")
    (out / "results.json.bak").write_text("mine too")
    with pytest.raises(AkitError, match=r"already holds the outputs of an earlier akit infer \(AlphaPose_clip.mp4\)"):
        claim_outdir("infer", out, OUTPUTS)
    assert (out / "results.json").exists()
    assert claim_outdir("infer", out, OUTPUTS, exist_ok=True) == out
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt", "results.json.bak"]
    assert claim_outdir("infer", out, OUTPUTS) == out  # nothing of the command's left: no refusal


def test_a_file_as_outdir_is_one_line(tmp_path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(AkitError, match="is a file, not a folder"):
        claim_outdir("eval", tmp_path / "f", OUTPUTS)


def test_a_failed_command_leaves_no_empty_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuntimeError), run_dir("analyze", None, OUTPUTS) as outdir:
        assert outdir.is_dir() and str(outdir) == "runs/analyze/exp"
        raise RuntimeError("boom")
    assert not (tmp_path / "runs").exists()  # the folders it created, parents included, are gone
    kept = tmp_path / "kept"
    with pytest.raises(RuntimeError), run_dir("analyze", kept, OUTPUTS) as outdir:
        (outdir / "results.json").write_text("[]")  # something was written: the folder stays
        raise RuntimeError("boom")
    assert (kept / "results.json").is_file()
