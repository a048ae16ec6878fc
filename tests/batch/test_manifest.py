"""The batch manifest (resume rules, refusals, order) and run_batch's checks before Ray: no Ray runtime needed, and
Ray itself is hidden where the test says akit must do without it."""

from __future__ import annotations

import dataclasses
import json
import socket
import subprocess
import sys
import time

import pytest

from alphapose_kit.batch import MANIFEST_NAME, Manifest, SourceResult, run_batch
from alphapose_kit.batch.runner import INSTALL_HINT
from alphapose_kit.engine.options import InferOptions
from alphapose_kit.errors import AkitError
from tests.paths import REPO

OPTIONS = InferOptions(checkpoint="random.pth", detfile="dets.json", device="cpu", quiet=True)


def done(name: str, source: str) -> SourceResult:
    return SourceResult(name, source, "done", frames=5, people=10, seconds=1.5, outputs=["alphapose-results.json"])


@pytest.fixture
def no_ray(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray raises ImportError


def test_entries_round_trip_in_source_order(tmp_path) -> None:
    manifest = Manifest.open(tmp_path, OPTIONS)
    order = ["b", "a", "c"]
    manifest.record(SourceResult("c", "/v/c.mp4", "failed", error="video /v/c.mp4 cannot be read"), order)
    manifest.record(done("a", "/v/a.mp4"), order)
    manifest.record(done("b", "/v/b.mp4"), order)
    data = json.loads((tmp_path / MANIFEST_NAME).read_text())
    assert [entry["name"] for entry in data["sources"]] == ["b", "a", "c"]
    assert data["sources"][1] == {
        "name": "a",
        "source": "/v/a.mp4",
        "status": "done",
        "frames": 5,
        "people": 10,
        "seconds": 1.5,
        "error": None,
        "outputs": ["alphapose-results.json"],
    }
    assert data["options"]["checkpoint"] == "random.pth" and "source" not in data["options"]
    assert Manifest.load(tmp_path).entries == manifest.entries
    assert manifest.names() == {"/v/b.mp4": "b", "/v/a.mp4": "a", "/v/c.mp4": "c"}
    assert manifest.line() == (
        f"2 of 3 sources done, 1 failed (c: failed: video /v/c.mp4 cannot be read) -> {tmp_path / MANIFEST_NAME}"
    )


def test_done_needs_its_outputs(tmp_path) -> None:
    manifest = Manifest.open(tmp_path, OPTIONS)
    manifest.record(done("a", "/v/a.mp4"))
    manifest.record(SourceResult("b", "/v/b.mp4", "failed", error="bad"))
    assert not manifest.is_done("a")  # listed as done, but its file is not there
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "alphapose-results.json").write_text("[]")
    (tmp_path / "b").mkdir()
    assert manifest.is_done("a") and not manifest.is_done("b") and not manifest.is_done("zzz")


def test_rerun_settings_other_results_are_refused(tmp_path) -> None:
    Manifest.open(tmp_path, OPTIONS).record(done("a", "/v/a.mp4"))
    same = Manifest.open(tmp_path, dataclasses.replace(OPTIONS, threads=4, quiet=False))  # run-only settings
    assert list(same.entries) == ["a"]
    other = dataclasses.replace(OPTIONS, checkpoint="other.pth", flip=True)
    with pytest.raises(AkitError, match=r"holds a batch run with other settings \(checkpoint, flip\); pass --exist-ok"):
        Manifest.open(tmp_path, other)
    fresh = Manifest.open(tmp_path, dataclasses.replace(other, exist_ok=True))
    assert fresh.entries == {} and fresh.options["checkpoint"] == "other.pth"


def test_a_folder_that_is_not_a_batch_is_refused(tmp_path) -> None:
    (tmp_path / "alphapose-results.json").write_text("[]")
    with pytest.raises(AkitError, match=f"^{tmp_path} holds files but no manifest.json; pass --exist-ok"):
        Manifest.open(tmp_path, OPTIONS)
    assert Manifest.open(tmp_path, dataclasses.replace(OPTIONS, exist_ok=True)).entries == {}
    (tmp_path / MANIFEST_NAME).write_text("{not json")
    with pytest.raises(AkitError, match="batch manifest .* is not readable JSON"):
        Manifest.open(tmp_path, OPTIONS)
    (tmp_path / MANIFEST_NAME).write_text(json.dumps({"format": "akit-batch/1", "options": {}, "sources": [{"x": 1}]}))
    with pytest.raises(AkitError, match="is not an akit batch manifest"):
        Manifest.open(tmp_path, OPTIONS)


def test_input_errors_come_before_ray_and_a_missing_ray_is_one_line(tmp_path, no_ray) -> None:
    with pytest.raises(AkitError, match="^input not found"):
        run_batch([str(tmp_path / "missing.mp4")], OPTIONS, tmp_path / "out")
    with pytest.raises(AkitError, match="^--batch must be at least 1"):
        run_batch([str(tmp_path)], dataclasses.replace(OPTIONS, batch=0), tmp_path / "out")
    (tmp_path / "a.mp4").write_bytes(b"")
    with pytest.raises(AkitError) as info:
        run_batch([str(tmp_path / "a.mp4")], OPTIONS, tmp_path / "out")
    assert (
        str(info.value)
        == INSTALL_HINT
        == "akit infer --ray needs Ray: pip install 'alphapose-kit[ray]' (or pip install ray)"
    )


def test_a_finished_batch_reruns_without_ray_from_another_folder(tmp_path, no_ray, monkeypatch) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    (tmp_path / "random.pth").write_bytes(b"")
    out = tmp_path / "out"
    first = dataclasses.replace(OPTIONS, checkpoint=str(tmp_path / "random.pth"))  # files are stored absolute
    Manifest.open(out, first).record(done("a", str(tmp_path / "a.mp4")))
    (out / "a").mkdir()
    (out / "a" / "alphapose-results.json").write_text("[]")
    before = (out / MANIFEST_NAME).read_text()
    monkeypatch.chdir(tmp_path)  # the same file, named relative to another working folder
    manifest = run_batch(["."], dataclasses.replace(OPTIONS, checkpoint="random.pth"), "out")
    assert list(manifest.entries) == ["a"] and (out / MANIFEST_NAME).read_text() == before


def test_akit_imports_and_runs_without_ray() -> None:
    code = (
        "import sys; sys.modules['ray'] = None; import alphapose_kit.batch; "
        "from alphapose_kit.cli.app import main; sys.exit(main(['models', 'list']))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr


def test_a_cluster_address_nobody_answers_at_fails_at_once(tmp_path, no_ray) -> None:
    (tmp_path / "a.mp4").write_bytes(b"")
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(AkitError, match=rf"^no Ray cluster answers at 127.0.0.1:{port} \(.*\); start one there with"):
        run_batch([str(tmp_path / "a.mp4")], OPTIONS, tmp_path / "out", ray=f"127.0.0.1:{port}")
    assert time.monotonic() - started < 5
    for bad in ("http://head:6379", "head:port", ":6379"):
        with pytest.raises(AkitError, match=f"^--ray {bad}: give auto, HOST:PORT of a head node or ray://HOST:PORT$"):
            run_batch([str(tmp_path / "a.mp4")], OPTIONS, tmp_path / "out", ray=bad)
