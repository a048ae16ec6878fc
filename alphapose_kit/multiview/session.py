"""The ``akit triangulate`` job: read the calibration and each camera's tracked results, align them in time,
reconstruct the people in 3D and write ``poses3d.json`` and TRC files. Cheap checks come before any reading of
results."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np

from alphapose_kit.analysis.series import Recording, load_recording, resolve_results
from alphapose_kit.analysis.trc import write_trc, zup_to_yup
from alphapose_kit.errors import AkitError
from alphapose_kit.io.run_dir import claim_outdir, ensure_writable_dir
from alphapose_kit.multiview.calibfile import read_calibration
from alphapose_kit.multiview.camera import Camera
from alphapose_kit.multiview.reconstruct import POSES3D_NAME, reconstruct, write_poses3d
from alphapose_kit.multiview.sync import motion_signal, sync_offsets

log = logging.getLogger("akit.multiview")


def pick_cameras(cameras: list[Camera], runs: int, names: list[str] | None, calib: Path) -> list[Camera]:
    """The calibration's camera for each run: by ``names`` (one per run) or in file order."""
    known = ", ".join(c.name for c in cameras)
    if names:
        if len(names) != runs:
            raise AkitError(f"--camera needs one name per run: {runs} runs, {len(names)} names")
        by_name = {c.name: c for c in cameras}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise AkitError(f"camera {missing[0]} is not in {calib} (cameras: {known})")
        return [by_name[n] for n in names]
    if runs > len(cameras):
        raise AkitError(f"{runs} runs but {calib} has {len(cameras)} cameras ({known}); one camera per run")
    return cameras[:runs]


def check_placed(cameras: list[Camera], calib: Path) -> None:
    """One line when two cameras sit at the same place (a calibration without extrinsics cannot triangulate)."""
    centres = [-cam.rotation_matrix.T @ np.asarray(cam.translation, np.float64) for cam in cameras]
    for i in range(len(cameras)):
        for j in range(i + 1, len(cameras)):
            if np.allclose(centres[i], centres[j], atol=1e-9):
                raise AkitError(
                    f"cameras {cameras[i].name} and {cameras[j].name} of {calib} sit at the same place: the "
                    "calibration has no extrinsics (run akit calibrate with --extrinsics)"
                )


def _rate(recordings: list[Recording], fps: float | None) -> float:
    if fps is not None:
        if not fps > 0:
            raise AkitError(f"--fps must be positive, got {fps}")
        return fps
    rates = {r.fps for r in recordings if r.fps}
    if not rates:
        raise AkitError("no frame rate: no run.json with fps beside the results; pass --fps")
    if len(rates) > 1:
        raise AkitError(f"the runs have different frame rates ({', '.join(f'{r:g}' for r in sorted(rates))}); "
                        "resample them to one or pass --fps")  # fmt: skip
    return float(rates.pop())


TRIANGULATE_OUTPUTS = (POSES3D_NAME, "markers*.trc")


def run_triangulation(
    runs: list[str],
    calib: str | Path,
    camera_names: list[str] | None = None,
    offsets: list[int] | None = None,
    auto_sync: bool = False,
    fps: float | None = None,
    keypoints: str | None = None,
    min_score: float = 0.3,
    max_error: float = 15.0,
    units: str = "m",
    outdir: str | Path | None = None,
    exist_ok: bool = False,
) -> list[Path]:
    """Triangulate ``runs`` (one per camera) with calibration ``calib``; returns the files written."""
    if len(runs) < 2:
        raise AkitError(f"triangulation needs the runs of at least 2 cameras, got {len(runs)}")
    if offsets is not None and len(offsets) != len(runs):
        raise AkitError(f"--offset needs one value per run: {len(runs)} runs, {len(offsets)} offsets")
    if not 0 <= min_score <= 1 or not max_error > 0:
        raise AkitError("--min-score must lie in 0..1 and --max-error be positive")
    paths = [resolve_results(r)[0] for r in runs]
    cameras = pick_cameras(read_calibration(calib), len(runs), camera_names, Path(calib))
    check_placed(cameras, Path(calib))
    recordings = [load_recording(p, fps=fps, keypoints=keypoints) for p in paths]
    sets = {r.keypoint_set.num_joints for r in recordings}
    if len(sets) > 1:
        counts = ", ".join(f"{p} has {r.keypoint_set.num_joints}" for p, r in zip(paths, recordings, strict=True))
        raise AkitError(f"the runs have different joint counts ({counts}); triangulate runs of one pose model")
    rate = _rate(recordings, fps)
    views = [list(r.tracks.values()) for r in recordings]
    for path, tracks in zip(paths, views, strict=True):
        if not tracks:
            raise AkitError(f"{path} has nobody in it")
    if auto_sync:
        offsets = sync_offsets([motion_signal(v, rate) for v in views])
        log.info("offsets from motion: %s", ", ".join(map(str, offsets)))
    shifts = offsets or [0] * len(runs)
    views = [[replace(t, frames=t.frames - s) for t in v] for v, s in zip(views, shifts, strict=True)]
    spans = [(min(int(t.frames[0]) for t in v), max(int(t.frames[-1]) for t in v)) for v in views]
    covered = np.zeros(max(b for _, b in spans) - min(a for a, _ in spans) + 1, np.int64)
    low = min(a for a, _ in spans)
    for a, b in spans:
        covered[a - low : b - low + 1] += 1
    if covered.max() < 2:
        listing = ", ".join(f"{p.parent.name or p.name}: {a}..{b}" for p, (a, b) in zip(paths, spans, strict=True))
        raise AkitError(f"the runs' frames do not overlap ({listing}); check --offset or use --sync auto")
    people = reconstruct(cameras, views, min_score, max_error)
    out = ensure_writable_dir(claim_outdir("triangulate", outdir, TRIANGULATE_OUTPUTS, exist_ok=exist_ok))
    written = [write_poses3d(out / POSES3D_NAME, people)]
    names = list(recordings[0].keypoint_set.names)
    ordered = sorted(people, key=lambda p: -int(np.isfinite(p.points).all(axis=2).any(axis=1).sum()))
    for rank, person in enumerate(ordered):
        name = "markers.trc" if rank == 0 else f"markers_{person.idx}.trc"
        written.append(write_trc(out / name, names, zup_to_yup(person.points), rate, person.frames, units))
    return written
