"""``report.html``: one self-contained page (plots and key frames embedded as data URIs, no script, no network)
with the angles, repetitions, comparison and falls of each track and key frames with the skeletons drawn."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from alphapose_kit.analysis.angles import compute_angles, parse_specs
from alphapose_kit.analysis.plots import MAX_PANELS, angles_png, reps_png
from alphapose_kit.analysis.series import Recording
from alphapose_kit.analysis.summaries import compare_result, falls_result, reps_result
from alphapose_kit.errors import AkitError
from alphapose_kit.io.render import draw_poses
from alphapose_kit.io.results import FrameResult

MAX_KEY_FRAMES = 4  # per track
KEY_FRAME_WIDTH = 640

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; padding-bottom: .2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: .5em 0; } td, th { border: 1px solid #ccc; padding: .2em .6em; }
th { background: #f2f2f2; } img { max-width: 100%; } .note { color: #666; }
figure { display: inline-block; margin: .4em; } figcaption { font-size: .85em; color: #444; }
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _img(data: bytes, mime: str, alt: str) -> str:
    return f'<img alt="{_esc(alt)}" src="data:{mime};base64,{base64.b64encode(data).decode()}">'


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_esc(title)}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}" if np.isfinite(x) else ""


def _source_frame(rec: Recording, frame: int) -> np.ndarray | None:
    """The frame's pixels from the run's source (a video or a folder of images), or None if unreachable."""
    source = Path(str(rec.run_info.get("source", "")))
    if not str(source) or not source.exists():
        return None
    if source.is_dir():
        name = rec.image_ids.get(frame)
        return cv2.imread(str(source / name)) if name else None
    capture = cv2.VideoCapture(str(source))
    try:
        capture.set(cv2.CAP_PROP_POS_FRAMES, frame)
        ok, image = capture.read()
    finally:
        capture.release()
    return image if ok else None


def _frame_result(rec: Recording, frame: int) -> FrameResult:
    rows = []
    for track in rec.tracks.values():
        hit = np.searchsorted(track.frames, frame)
        if hit < len(track) and track.frames[hit] == frame:
            rows.append((track.track_id, track.boxes[hit], track.keypoints[hit], track.scores[hit]))
    k = rec.keypoint_set.num_joints
    return FrameResult(
        frame,
        rec.image_ids.get(frame, f"{frame}.jpg"),
        np.array([r[1] for r in rows]).reshape(-1, 4),
        np.ones(len(rows)),
        np.array([r[2] for r in rows]).reshape(-1, k, 2),
        np.array([r[3] for r in rows]).reshape(-1, k),
        np.array([float(np.mean(r[3])) for r in rows]),
        [r[0] for r in rows],
    )


def key_frame_jpeg(rec: Recording, frame: int, min_score: float) -> bytes:
    """The frame (or a blank canvas when its source cannot be read) with every tracked skeleton drawn, as JPEG."""
    result = _frame_result(rec, frame)
    image = _source_frame(rec, frame)
    if image is None:
        w = rec.run_info.get("width") or int(np.nanmax(result.keypoints[..., 0], initial=600) + 40)
        h = rec.run_info.get("height") or int(np.nanmax(result.keypoints[..., 1], initial=400) + 40)
        image = np.full((int(h), int(w), 3), 255, np.uint8)
    canvas = draw_poses(image, result, rec.keypoint_set, min_score, by_track=True)
    if canvas.shape[1] > KEY_FRAME_WIDTH:
        scale = KEY_FRAME_WIDTH / canvas.shape[1]
        canvas = cv2.resize(canvas, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise AkitError(f"could not encode key frame {frame}")
    return data.tobytes()


def _reps_section(rec: Recording, inputs: Any, exercise: str) -> tuple[str, dict[int, list[dict]]]:
    if not rec.fps:
        return _note("No frame rate (no run.json with fps): pass --fps to count repetitions."), {}
    summary, rows = reps_result(rec, inputs, exercise)
    thresholds = f"down at {summary['low']:g}°, up at {summary['high']:g}°, target {summary['target']:g}°"
    body = [f"<p>Exercise <b>{_esc(exercise)}</b>: {summary['count']} repetitions ({thresholds}).</p>"]
    by_track: dict[int, list[dict]] = {}
    for track, _, reps in rows:
        by_track[track.track_id] = reps
        body.append(f"<h3>Person {track.track_id}: {len(reps)} reps</h3>")
        if reps:
            body.append(
                _table(
                    ["rep", "start (s)", "end (s)", "bottom (°)", "range (°)", "down (s)", "up (s)", "form score"],
                    [
                        [
                            r["rep"],
                            _fmt(r["start_s"]),
                            _fmt(r["end_s"]),
                            _fmt(r["bottom_angle"], 1),
                            _fmt(r["range_of_motion"], 1),
                            _fmt(r["down_s"]),
                            _fmt(r["up_s"]),
                            _fmt(r["form_score"]),
                        ]
                        for r in reps
                    ],
                )
            )
    body.append(_img(reps_png(rows[:MAX_PANELS], summary["fps"], summary["low"], summary["high"]), "image/png", "reps"))
    return "".join(body), by_track


def _compare_section(rec: Recording, ref: Recording | None, inputs: Any, mirror: bool) -> str:
    if ref is None:
        return _note("No reference movement given (--reference).")
    parts = []
    for track in rec.select(inputs.person)[:MAX_PANELS]:
        result, figure = compare_result(rec, ref, track.track_id, None, mirror, inputs.min_score)
        worst = sorted(result["per_joint_deviation"].items(), key=lambda kv: -kv[1])[:3]
        parts.append(
            f"<h3>Person {track.track_id} against reference person {result['track_b']}</h3>"
            f"<p>Similarity <b>{result['similarity']:.3f}</b> (1 = the same movement), DTW distance "
            f"{result['dtw_distance']:.2f}, RMS deviation {result['rms_deviation_torso']:.3f} torso lengths"
            f"{', mirrored' if result['mirrored'] else ''}. Largest deviations: "
            + ", ".join(f"{_esc(j)} {d:.2f}" for j, d in worst)
            + "</p>"
            + _img(figure, "image/png", "comparison")
        )
    return "".join(parts)


def _falls_section(rec: Recording, inputs: Any) -> tuple[str, list[dict]]:
    if not rec.fps:
        return _note("No frame rate (no run.json with fps): pass --fps to look for falls."), []
    events = falls_result(rec, inputs)
    if not events:
        return "<p>No falls detected.</p>", []
    rows = [
        [e["track_id"], e["frame"], _fmt(e["time_s"]), _fmt(e["evidence"]["trunk_angle_after"], 1),
         _fmt(e["evidence"]["peak_hip_velocity_body_heights_per_s"]), _fmt(e["evidence"]["hip_drop_body_heights"])]
        for e in events
    ]  # fmt: skip
    header = ["person", "frame", "time (s)", "trunk after (°)", "hip speed (heights/s)", "hip drop (heights)"]
    return f"<p>{len(events)} fall(s) detected.</p>" + _table(header, rows), events


def _key_frames_section(rec: Recording, inputs: Any, reps: dict[int, list[dict]], falls: list[dict]) -> str:
    parts = []
    for track in rec.select(inputs.person)[:MAX_PANELS]:
        picks = [(int(track.frames[len(track) // 2]), "middle of the track")]
        track_reps = reps.get(track.track_id, [])
        if track_reps:
            deepest = min(track_reps, key=lambda r: r["bottom_angle"])
            picks.append((deepest["bottom_frame"], f"deepest rep ({deepest['bottom_angle']:.0f}°)"))
        picks += [(e["frame"], f"fall at {e['time_s']:.2f} s") for e in falls if e["track_id"] == track.track_id]
        figures = [
            f"<figure>{_img(key_frame_jpeg(rec, f, inputs.min_score), 'image/jpeg', caption)}"
            f"<figcaption>frame {f}: {_esc(caption)}</figcaption></figure>"
            for f, caption in picks[:MAX_KEY_FRAMES]
        ]
        parts.append(f"<h3>Person {track.track_id}</h3>" + "".join(figures))
    return "".join(parts)


def part_scores(rec: Recording, tracks: list) -> str:
    """A table of each track's mean joint score per part of the keypoint set (body, foot, face, hands...), and of
    the share of its joints at or above 0.3 there: how far each part of the analysis can be trusted."""
    parts = rec.keypoint_set.parts or (("body", tuple(range(rec.keypoint_set.num_joints))),)
    header = ["track", *(f"{name} mean (>= 0.3)" for name, _ in parts)]
    rows = []
    for track in tracks:
        cells: list[Any] = [track.track_id]
        for _, ids in parts:
            scores = np.asarray(track.scores)[:, list(ids)]
            cells.append(f"{_fmt(float(scores.mean()))} ({100 * float((scores >= 0.3).mean()):.0f} %)")
        rows.append(cells)
    return _table(header, rows)


def build_report(
    rec: Recording, inputs: Any, ref: Recording | None, exercise: str, mirror: bool, empty: str | None = None
) -> str:
    """The whole page as one HTML string; ``empty`` is why there is nothing to show (said at the top), if so."""
    tracks = rec.select(inputs.person)
    info = rec.run_info
    summary = _table(
        ["results", "source", "frame rate", "frames", "people tracked", "keypoints"],
        [
            [
                rec.path,
                info.get("source", ""),
                f"{rec.fps:g} fps" if rec.fps else "unknown",
                info.get("frames", ""),
                len(tracks),
                rec.keypoint_set.name,
            ]
        ],
    )
    if tracks:
        specs = parse_specs(None, rec.keypoint_set)
        rows = [(t, compute_angles(t, specs, inputs.min_score)) for t in tracks[:MAX_PANELS]]
        angles_body = _img(angles_png(rows, rec.fps), "image/png", "angles")
        reps_body, reps = _reps_section(rec, inputs, exercise)
        compare_body = _compare_section(rec, ref, inputs, mirror)
        falls_body, falls = _falls_section(rec, inputs)
        frames_body = _key_frames_section(rec, inputs, reps, falls)
    else:
        angles_body = reps_body = compare_body = falls_body = frames_body = _note(
            "Nobody was tracked in these results."
        )
    sections = [
        _section("summary", "Summary", summary + (_note(empty[0].upper() + empty[1:] + ".") if empty else "")),
        _section("scores", "Joint scores per part", part_scores(rec, tracks) if tracks else _note("No tracks.")),
        _section("angles", "Angles", angles_body),
        _section("reps", "Repetitions", reps_body),
        _section("comparison", "Comparison", compare_body),
        _section("falls", "Falls", falls_body),
        _section("key-frames", "Key frames", frames_body),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>akit motion report</title>'
        f"<style>{_STYLE}</style></head><body><h1>Motion report</h1>{''.join(sections)}</body></html>\n"
    )
