"""Batch source expansion: folders, globs, lists; distinct folder names; one-line errors. No Ray needed."""

from __future__ import annotations

import pytest

from alphapose_kit.batch.sources import BatchSource, assign_names, expand_sources
from alphapose_kit.errors import AkitError
from tests.logcapture import captured_logs


@pytest.fixture
def tree(tmp_path):
    """a/x.mp4 a/y.MOV a/notes.txt a/frame.jpg, b/x.mp4, b/sub/z.mkv, c/ (empty)."""
    for rel in ("a/x.mp4", "a/y.MOV", "a/frame.jpg", "b/x.mp4", "b/sub/z.mkv"):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    (tmp_path / "a" / "notes.txt").write_text("")
    (tmp_path / "c").mkdir()
    return tmp_path


def test_folder_glob_and_file_with_clashing_names(tree) -> None:
    found = expand_sources([str(tree / "a"), str(tree / "b" / "**" / "*.mkv"), str(tree / "b" / "x.mp4")])
    assert found == [
        BatchSource(str(tree / "a" / "x.mp4"), "x"),
        BatchSource(str(tree / "a" / "y.MOV"), "y"),
        BatchSource(str(tree / "b" / "sub" / "z.mkv"), "z"),
        BatchSource(str(tree / "b" / "x.mp4"), "x-2"),  # same name, other folder
    ]


def test_a_source_named_twice_runs_once(tree) -> None:
    with captured_logs() as messages:
        found = expand_sources([str(tree / "a" / "x.mp4"), str(tree / "a"), str(tree / "a" / "*.mp4")])
    assert [item.name for item in found] == ["x", "y"]
    assert any("2 source(s) named more than once are run once" in m for m in messages)


def test_list_file_relative_to_itself_with_comments(tree, tmp_path, monkeypatch) -> None:
    listing = tree / "lists" / "videos.txt"
    listing.parent.mkdir()
    listing.write_text("# the season\n\n../b/x.mp4\n  ../a/*.MOV  \n# done\nrtsp://cam.local/feeds/gate.sdp\n")
    monkeypatch.chdir(tmp_path / "c")  # relative entries are the list's, not the working folder's
    found = expand_sources([str(listing)])
    assert found == [
        BatchSource(str(tree / "b" / "x.mp4"), "x"),
        BatchSource(str(tree / "a" / "y.MOV"), "y"),
        BatchSource("rtsp://cam.local/feeds/gate.sdp", "gate"),
    ]


def test_names_from_an_earlier_manifest_are_kept() -> None:
    taken = {"/v/2/a.mp4": "a", "/v/1/a.mp4": "a-2"}
    named = assign_names(["/v/1/a.mp4", "/v/3/a.mp4", "/v/2/a.mp4", "/v/A.mp4"], taken)
    assert [item.name for item in named] == ["a-2", "a-3", "a", "A-4"]  # case-blind: A clashes with a


def test_hidden_and_nameless_sources_get_a_visible_folder(tmp_path) -> None:
    for name in (".hidden.mp4", ".mp4"):
        (tmp_path / name).write_bytes(b"")
    found = expand_sources([str(tmp_path / ".hidden.mp4"), str(tmp_path / ".mp4"), "http://cam.local/"])
    assert [item.name for item in found] == ["hidden", "mp4", "source"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("missing.mp4", "input not found: {tree}/missing.mp4"),
        ("c", "no videos (.mp4"),
        ("a/*.avi", "no videos (.mp4, .avi"),
    ],
)
def test_bad_entries_are_one_line(tree, monkeypatch, entry, message) -> None:
    monkeypatch.chdir(tree)
    with pytest.raises(AkitError) as info:
        expand_sources([entry])
    text = str(info.value)
    assert message.format(tree=tree) in text and "\n" not in text


def test_list_errors_name_the_line(tree) -> None:
    listing = tree / "videos.txt"
    listing.write_text("a/x.mp4\n# fine so far\na/gone.mp4\n")
    with pytest.raises(AkitError, match=rf"^{listing}:3: input not found: {tree}/a/gone.mp4$"):
        expand_sources([str(listing)])
    listing.write_text("a/notes.txt\n")
    with pytest.raises(AkitError, match="cannot name another list"):
        expand_sources([str(listing)])
    listing.write_text("# nothing\n\n")
    with pytest.raises(AkitError, match="names no sources"):
        expand_sources([str(listing)])
    with pytest.raises(AkitError, match="no sources given"):
        expand_sources([])
