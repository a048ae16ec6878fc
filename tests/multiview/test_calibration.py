"""Calibration: rendered boards seen by known cameras come back as those cameras; the TOML round-trips and reads
the files Pose2Sim and aniposelib write."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from alphapose_kit.cli.app import main
from alphapose_kit.errors import AkitError
from alphapose_kit.multiview.boards import Board
from alphapose_kit.multiview.calibfile import calibration_toml, read_calibration, write_calibration
from alphapose_kit.multiview.calibrate import BoardViews, calibrate_intrinsics, find_board, locate_camera
from alphapose_kit.multiview.camera import Camera
from tests.multiview.synthetic import camera, render

CHECKER = Board("checkerboard", 9, 6, 0.04)
CHARUCO = Board("charuco", 7, 5, 0.15, 0.11)
K_TRUE = dict(focal=(810.0, 805.0), centre=(323.0, 236.0), dist=(-0.15, 0.05, 0.0, 0.0, 0.0))


def intrinsic_views(
    board: Board, target, reach: float, height: float, shift: float = 0.12, **intrinsics
) -> list[Camera]:
    """Twelve viewpoints around and above the board's centre, tilted 15-35 degrees, with some roll, aimed beside
    the board so that it lands in every part of the image."""
    cams = []
    for i, angle in enumerate(np.linspace(0, 2 * np.pi, 12, endpoint=False)):
        eye = np.asarray(target) + np.array(
            [reach * np.cos(angle), reach * np.sin(angle), height * (0.9 + 0.05 * (i % 3))]
        )
        aim = np.asarray(target) + shift * height * np.array([np.cos(2.5 * angle), np.sin(2.5 * angle), 0])
        roll = np.radians(10 * (i % 3) - 10)
        cams.append(camera(f"v{i}", eye, aim, up=(np.sin(roll), np.cos(roll), 0.0), **intrinsics))
    return cams


def centre_of(cam: Camera) -> np.ndarray:
    return -cam.rotation_matrix.T @ cam.translation


def test_checkerboard_intrinsics_recover_the_known_camera():
    views = [
        CHECKER.detect(render(v, CHECKER)) for v in intrinsic_views(CHECKER, (0.16, -0.1, 0), 0.35, 0.75, **K_TRUE)
    ]
    assert all(v is not None for v in views)
    cam, rms = calibrate_intrinsics("c", BoardViews((640, 480), [v for v in views if v is not None], 12), CHECKER)
    assert rms < 0.3
    np.testing.assert_allclose(np.diag(cam.matrix)[:2], K_TRUE["focal"], rtol=5e-3)
    np.testing.assert_allclose(cam.matrix[:2, 2], K_TRUE["centre"], atol=3.0)
    assert abs(cam.distortions[0] - K_TRUE["dist"][0]) < 0.03  # k2 and k3 trade off: compare what the lens does
    rays = np.array([[x, y, 1.0] for x in np.linspace(-0.3, 0.3, 7) for y in np.linspace(-0.25, 0.25, 6)])
    truth = camera("t", (0, 0, 1), (0, 0, 0), up=(0, 1, 0), **K_TRUE)
    truth.rotation, truth.translation = np.zeros(3), np.zeros(3)
    fitted = Camera("f", (640, 480), cam.matrix, cam.distortions)
    assert np.abs(fitted.project(rays) - truth.project(rays)).max() < 1.0  # pixels, over the middle of the image


def four_cameras(**intrinsics) -> list[Camera]:
    """Four cameras 2.2 m from the middle of the ChArUco board, 1.8 m up, a quarter turn apart."""
    centre = (0.525, -0.375, 0.0)
    return [
        camera(f"cam{i}", np.array(centre) + np.array([2.2 * np.cos(a), 2.2 * np.sin(a), 1.8]), centre, **intrinsics)
        for i, a in enumerate(np.radians([-90, 0, 90, 180]))
    ]


def test_charuco_extrinsics_place_each_camera_where_it_is(tmp_path):
    for truth in four_cameras():
        path = tmp_path / f"{truth.name}.png"
        cv2.imwrite(str(path), render(truth, CHARUCO))
        seen = find_board(path, CHARUCO, first_only=True)
        assert seen.views and len(seen.views[0][0]) >= 12
        start = Camera(truth.name, truth.size, truth.matrix, truth.distortions)
        placed, err = locate_camera(start, seen, CHARUCO)
        assert err < 0.3
        assert np.linalg.norm(centre_of(placed) - centre_of(truth)) < 0.01  # within a centimetre at 2.8 m
        turn = placed.rotation_matrix @ truth.rotation_matrix.T
        assert np.degrees(np.arccos(np.clip((np.trace(turn) - 1) / 2, -1, 1))) < 0.2


def test_a_nine_by_six_checkerboard_places_cameras_on_every_side_and_eight_by_six_is_refused(tmp_path):
    for turn in (0, 90, 180, 270):
        a = np.radians(turn)
        truth = camera("c", np.array([0.16 + 0.5 * np.cos(a), -0.1 + 0.5 * np.sin(a), 0.7]), (0.16, -0.1, 0))
        seen = BoardViews(truth.size, [CHECKER.detect(render(truth, CHECKER))], 1)
        placed, _ = locate_camera(Camera("c", truth.size, truth.matrix, truth.distortions), seen, CHECKER)
        assert np.linalg.norm(centre_of(placed) - centre_of(truth)) < 0.005
    with pytest.raises(AkitError, match="turned half around"):
        Board("checkerboard", 8, 6, 0.04).check_extrinsics()
    CHECKER.check_extrinsics()
    CHARUCO.check_extrinsics()


def test_akit_calibrate_writes_both_cameras_and_their_errors(tmp_path, capsys):
    cams = four_cameras(**K_TRUE)[:2]
    sources, extrinsics = [], []
    for cam in cams:
        folder = tmp_path / cam.name
        folder.mkdir()
        for i, view in enumerate(intrinsic_views(CHARUCO, (0.525, -0.375, 0), 0.7, 1.6, 0.22, **K_TRUE)):
            cv2.imwrite(str(folder / f"{i:02d}.png"), render(view, CHARUCO))
        ext = tmp_path / f"ext_{cam.name}.png"
        cv2.imwrite(str(ext), render(cam, CHARUCO))
        sources.append(str(folder))
        extrinsics += ["--extrinsics", str(ext)]
    out = tmp_path / "calib.toml"
    argv = ["calibrate", *sources, "--board", "charuco", "--corners", "7x5", "--square", "0.15", "--marker", "0.11"]
    assert main([*argv, *extrinsics, "-o", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("cam0: board in 12/12 images, intrinsics RMS") and "extrinsics RMS" in lines[1]
    read = read_calibration(out)
    assert [c.name for c in read] == ["cam0", "cam1"]
    for got, truth in zip(read, cams, strict=True):
        np.testing.assert_allclose(np.diag(got.matrix)[:2], K_TRUE["focal"], rtol=1e-2)
        assert np.linalg.norm(centre_of(got) - centre_of(truth)) < 0.03
    assert "[cam_0]" in out.read_text() and "[metadata]" in out.read_text()


def test_akit_calibrate_bad_inputs_are_one_line(tmp_path, capsys):
    blank = tmp_path / "blank"
    blank.mkdir()
    for i in range(3):
        cv2.imwrite(str(blank / f"{i}.png"), np.full((120, 160, 3), 200, np.uint8))
    cases = [
        (["calibrate", str(blank), "--corners", "9x6", "--square", "0.04"], "found in 0 of 3 images"),
        (["calibrate", str(blank), "--corners", "nine", "--square", "0.04"], "--corners must be"),
        (["calibrate", str(tmp_path / "nope"), "--corners", "9x6", "--square", "0.04"], "not found"),
        (["calibrate", str(blank), "--corners", "9x6", "--square", "0.04", "-o", "c.json"], "must be a .toml"),
        (["calibrate", str(blank), "--board", "charuco", "--corners", "5x7", "--square", "0.04"], "--marker"),
    ]
    for argv, message in cases:
        assert main(argv) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("akit: error: ") and message in err[0], err


def test_opencv_calibration_round_trips_through_the_toml(tmp_path):
    truth = camera("t", (0.6, 0.2, 0.9), (0.16, -0.1, 0), **K_TRUE)
    obj = CHECKER.object_points().astype(np.float32) * [1, -1, 0]
    objects, pixels = [], []
    for view in intrinsic_views(CHECKER, (0.16, -0.1, 0), 0.35, 0.75, **K_TRUE):
        objects.append(obj.astype(np.float32))
        pixels.append(view.project(obj).astype(np.float32).reshape(-1, 1, 2))
    rms, k, dist, rvecs, tvecs = cv2.calibrateCamera(objects, pixels, (640, 480), None, None)
    cams = [Camera("a", (640, 480), k, dist.ravel(), rvecs[0].ravel(), tvecs[0].ravel()), truth]
    path = write_calibration(tmp_path / "calib.toml", cams, rms)
    back = read_calibration(path)
    for got, want in zip(back, cams, strict=True):
        assert got.name == want.name and got.size == want.size and got.fisheye is False
        for key in ("matrix", "distortions", "rotation", "translation"):
            np.testing.assert_array_equal(getattr(got, key), np.asarray(getattr(want, key), float).ravel()
                                          if key != "matrix" else getattr(want, key))  # fmt: skip
    np.testing.assert_allclose(back[0].project(obj), pixels[0].reshape(-1, 2), atol=1e-3)
    assert calibration_toml(back, rms) == path.read_text()


POSE2SIM = """
[int_cam01_img]
name = "int_cam01_img"
size = [ 1920.0, 1080.0,]
matrix = [ [ 1500.5, 0.0, 960.0,], [ 0.0, 1501.0, 540.0,], [ 0.0, 0.0, 1.0,],]
distortions = [ -0.05, 0.01, 0.001, -0.002,]
rotation = [ 1.2, -0.3, 0.1,]
translation = [ 0.5, 1.0, 4.5,]
fisheye = false

[int_cam02_img]
name = "int_cam02_img"
size = [ 1920.0, 1080.0,]
matrix = [ [ 1400.0, 0.0, 950.0,], [ 0.0, 1400.0, 530.0,], [ 0.0, 0.0, 1.0,],]
distortions = [ 0.1, 0.0, 0.0, 0.0,]
rotation = [ 1.0, 0.3, -0.1,]
translation = [ -0.5, 1.0, 4.0,]
fisheye = true

[metadata]
adjusted = false
error = 0.0
"""


def test_reads_pose2sim_and_aniposelib_files(tmp_path):
    path = tmp_path / "Calib_board.toml"
    path.write_text(POSE2SIM)
    a, b = read_calibration(path)
    assert (a.name, a.size, b.fisheye) == ("int_cam01_img", (1920, 1080), True)
    np.testing.assert_array_equal(a.matrix, [[1500.5, 0, 960], [0, 1501, 540], [0, 0, 1]])
    np.testing.assert_array_equal(a.distortions, [-0.05, 0.01, 0.001, -0.002])
    np.testing.assert_array_equal(b.translation, [-0.5, 1.0, 4.0])
    anipose = POSE2SIM.replace("[int_cam01_img]", "[cam_0]").replace("[int_cam02_img]", "[cam_1]")
    anipose = anipose.replace('name = "int_cam01_img"', 'name = "A"').replace('name = "int_cam02_img"', 'name = "B"')
    path.write_text(anipose.replace("size = [ 1920.0, 1080.0,]", "size = [1920, 1080]"))
    assert [c.name for c in read_calibration(path)] == ["A", "B"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not toml at all = = [", "is not a TOML calibration"),
        ("[cam_0]\nname = 'a'\nsize = [1, 2]\nmatrix = [[1,0,0],[0,1,0],[0,0,1]]\n", "has no distortions"),
        ("[metadata]\nerror = 1.0\n", "holds no camera table"),
        (POSE2SIM.replace("[ 0.0, 0.0, 1.0,],]", "[ 0.0, 0.0,],]", 1), "matrix must be"),
    ],
)
def test_bad_calibration_files_are_one_line(tmp_path, text, message):
    path = tmp_path / "calib.toml"
    path.write_text(text)
    with pytest.raises(AkitError, match=message):
        read_calibration(path)
    with pytest.raises(AkitError, match="cannot read calibration"):
        read_calibration(tmp_path / "missing.toml")


def test_intrinsics_from_a_video_every_second_frame(tmp_path, capsys):
    path = tmp_path / "board.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for view in intrinsic_views(CHECKER, (0.16, -0.1, 0), 0.35, 0.75, **K_TRUE):
        frame = render(view, CHECKER)
        writer.write(frame)
        writer.write(np.full_like(frame, 90))  # a frame without the board, skipped by --every 2
    writer.release()
    out = tmp_path / "calib.toml"
    assert main(["calibrate", str(path), "--corners", "9x6", "--square", "0.04", "--every", "2", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("board: board in 12/12 images") and "cannot use this file yet" in captured.err
    (cam,) = read_calibration(out)
    np.testing.assert_allclose(np.diag(cam.matrix)[:2], K_TRUE["focal"], rtol=1e-2)
