"""A COCO-WholeBody-layout annotation file built from the shared COCO people, for whole-body training tests.

Body joints are COCO's own; the shared COCO file has no feet, so each foot is placed from its ankle (and knee); the
hands are drawn from the wrist along the forearm, the 68 face points around the nose at the eye distance. A part
whose anchor joints are unlabelled is written with its ``*_valid`` flag false. The synthetic joints follow each
person's own body, so a network can memorise them as it memorises the body.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tests.paths import COCO

ANN = COCO / "person_keypoints.json"
L_ELBOW, R_ELBOW, L_WRIST, R_WRIST, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 7, 8, 9, 10, 13, 14, 15, 16


def _labelled(kp: np.ndarray, *ids: int) -> bool:
    return bool(all(kp[i, 2] > 0 for i in ids))


def _triples(points: np.ndarray) -> list[float]:
    return [float(v) for x, y in points for v in (round(float(x), 2), round(float(y), 2), 2)]


def _foot(kp: np.ndarray, ankle: int, knee: int, box_h: float) -> np.ndarray:
    """Big toe, small toe, heel of one foot, placed below the ankle and sized by the shin (toes image-right of the
    left ankle, image-left of the right one: any fixed rule does, the network only has to memorise it)."""
    size = 0.25 * float(np.linalg.norm(kp[ankle, :2] - kp[knee, :2])) if kp[knee, 2] > 0 else 0.06 * box_h
    side = 1.0 if ankle == L_ANKLE else -1.0
    offsets = np.array([[0.9 * side, 0.5], [0.6 * side, 0.6], [-0.2 * side, 0.3]])
    return kp[ankle, :2] + offsets * size


def _hand(kp: np.ndarray, wrist: int, elbow: int) -> np.ndarray:
    """21 hand joints: the root at the wrist, five fingers fanning out along the forearm's direction."""
    w, e = kp[wrist, :2], kp[elbow, :2]
    length = max(float(np.linalg.norm(w - e)), 1.0)
    u = (w - e) / length
    p = np.array([-u[1], u[0]])
    s = 0.5 * length
    joints = [w]
    for finger in range(5):
        for i in range(1, 5):
            joints.append(w + u * s * (0.25 + 0.18 * i) + p * s * (finger - 2) * (0.1 + 0.04 * i))
    return np.array(joints)


def _face(kp: np.ndarray) -> np.ndarray:
    """68 points on three rings around the nose, the rings sized by the distance between the eyes."""
    d = max(float(np.linalg.norm(kp[1, :2] - kp[2, :2])), 1.0)
    angles = 2 * np.pi * np.arange(68) / 68
    radius = d * (0.6 + 0.4 * (np.arange(68) % 3))
    return kp[0, :2] + np.stack([np.cos(angles), np.sin(angles)], 1) * radius[:, None]


def wholebody_person(annotation: dict) -> dict:
    """One COCO person annotation with COCO-WholeBody's part lists and validity flags added."""
    kp = np.asarray(annotation["keypoints"], np.float64).reshape(17, 3)
    box_h = float(annotation["bbox"][3])
    out = dict(annotation)
    feet = [_foot(kp, a, k, box_h) if kp[a, 2] > 0 else None for a, k in ((L_ANKLE, L_KNEE), (R_ANKLE, R_KNEE))]
    out["foot_kpts"] = [v for f in feet for v in (_triples(f) if f is not None else [0.0] * 9)]
    out["foot_valid"] = any(f is not None for f in feet)
    face_ok = _labelled(kp, 0, 1, 2)
    out["face_kpts"], out["face_valid"] = (_triples(_face(kp)) if face_ok else [0.0] * 204), face_ok
    for key, wrist, elbow in (("lefthand", L_WRIST, L_ELBOW), ("righthand", R_WRIST, R_ELBOW)):
        ok = _labelled(kp, wrist, elbow)
        out[f"{key}_kpts"], out[f"{key}_valid"] = (_triples(_hand(kp, wrist, elbow)) if ok else [0.0] * 63), ok
    return out


def write_wholebody_sample(path: Path, times: int = 1) -> Path:
    """The shared COCO people as a COCO-WholeBody file, each person listed ``times`` times (an epoch = ``times``
    passes over them)."""
    data = json.loads(ANN.read_text())
    people = [wholebody_person(a) for a in data["annotations"]]
    data["annotations"] = [{**a, "id": a["id"] * 100 + r} for r in range(times) for a in people]
    path.write_text(json.dumps(data))
    return path
