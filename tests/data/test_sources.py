"""Frame sources as a new user meets them: unique names in recursive globs, bad and truncated images, empty videos."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from alphapose_kit.data.sources import ImageListSource, glob_root, is_empty_mp4, open_source, relative_names
from alphapose_kit.errors import AkitError
from tests.logcapture import captured_logs
from tests.paths import COCO, DATA

POSETRACK = DATA / "posetrack18"


def test_recursive_glob_names_frames_by_their_path_below_the_pattern_root() -> None:
    source = open_source(str(POSETRACK / "**" / "*.jpg"))
    files = sorted(POSETRACK.rglob("*.jpg"))
    assert len({p.name for p in files}) < len(files)  # the data holds repeated file names (000000.jpg x4)
    assert source.image_ids == [p.relative_to(POSETRACK).as_posix() for p in files]
    assert len(set(source.image_ids)) == len(files)
    frames = list(source)
    assert [f.image_id for f in frames] == source.image_ids


def test_directory_and_single_image_keep_alphapose_file_names() -> None:
    assert open_source(str(COCO)).image_ids == sorted(p.name for p in COCO.glob("*.jpg"))
    assert open_source(str(COCO / "000000000785.jpg")).image_ids == ["000000000785.jpg"]


def test_relative_names_and_glob_root(tmp_path: Path) -> None:
    a, b = tmp_path / "a" / "x.jpg", tmp_path / "b" / "x.jpg"
    assert relative_names([a, b]) == ["a/x.jpg", "b/x.jpg"]  # common folder when no root is given
    assert relative_names([a]) == ["x.jpg"]
    assert relative_names([a, b], tmp_path / "a") == ["x.jpg", "x.jpg"]  # a file outside the root: its name
    assert glob_root("data/*/img?.jpg") == Path("data")
    assert glob_root("/d/e/**/*.png") == Path("/d/e")
    assert glob_root("*.jpg") == Path(".")


def _folder_with_a_bad_image(tmp_path: Path) -> Path:
    folder = tmp_path / "imgs"
    folder.mkdir()
    good = (COCO / "000000000785.jpg").read_bytes()
    (folder / "a.jpg").write_bytes(good)
    (folder / "b.jpg").write_bytes(os.urandom(2048))
    (folder / "c.jpg").write_bytes(good)
    return folder


def test_unreadable_image_stops_the_source_unless_skip_bad(tmp_path: Path) -> None:
    folder = _folder_with_a_bad_image(tmp_path)
    with pytest.raises(AkitError, match=r"cannot read image .*b\.jpg.*--skip-bad"):
        list(open_source(str(folder)))
    source = open_source(str(folder), skip_bad=True)
    with captured_logs() as logs:
        frames = list(source)
    assert [(f.index, f.image_id) for f in frames] == [(0, "a.jpg"), (2, "c.jpg")]  # index = place in the source
    assert source.skipped == [folder / "b.jpg"]
    assert len(logs) == 1 and "b.jpg" in logs[0] and "skipping" in logs[0]


def test_truncated_jpeg_is_decoded_with_a_warning(tmp_path: Path) -> None:
    data = (COCO / "000000000785.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) // 2])
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(data)
    source = ImageListSource([whole, cut], "test")
    with captured_logs() as logs:
        frames = list(source)
    assert len(frames) == 2 and frames[1].image.shape == frames[0].image.shape
    assert source.truncated == [cut]
    assert len(logs) == 1 and "cut.jpg" in logs[0] and "truncated" in logs[0]


def _empty_video(path: Path, fourcc: str) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25.0, (64, 48))
    writer.release()  # no frame written: a well-formed file that holds no frames
    return path


@pytest.mark.parametrize(("name", "fourcc"), [("empty.mp4", "mp4v"), ("empty.avi", "MJPG")])
def test_video_with_no_frames_has_its_own_message(tmp_path: Path, name: str, fourcc: str) -> None:
    path = _empty_video(tmp_path / name, fourcc)
    with pytest.raises(AkitError, match=r"holds no frames \(a valid but empty video\)"):
        list(open_source(str(path)))


def test_corrupt_video_is_still_called_unreadable(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(os.urandom(4096))
    assert not is_empty_mp4(bad)
    with pytest.raises(AkitError, match="cannot open video"):
        open_source(str(bad))


def test_real_and_cut_mp4_are_not_called_empty(tmp_path: Path) -> None:
    video = DATA / "video" / "people_walking.mp4"
    assert not is_empty_mp4(video)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(video.read_bytes()[:-100])  # the boxes no longer tile the file
    assert not is_empty_mp4(cut)
    empty = _empty_video(tmp_path / "e.mp4", "mp4v")
    assert is_empty_mp4(empty)
    assert not is_empty_mp4(tmp_path / "missing.mp4")
    frame = next(iter(open_source(str(video))))
    assert frame.image_id == "0.jpg" and isinstance(frame.image, np.ndarray)
