"""Keypoint sets: joint names, flip pairs, skeleton edges and OKS sigmas in one place.

COCO-17 follows the COCO keypoint challenge (Lin et al., ECCV 2014); Halpe-26 is AlphaPose's body+feet set
(Fang et al., "AlphaPose", TPAMI 2022; github.com/Fang-Haoshu/Halpe-FullBody). Skeletons are the ones AlphaPose
draws (vis.py): COCO-17 adds a virtual neck point at index 17, the mean of the shoulders.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from yacs.config import CfgNode

from alphapose_kit.errors import ConfigError


@dataclass(frozen=True)
class KeypointSet:
    """A named list of joints with everything the pipeline needs to flip, draw and score them."""

    name: str
    names: tuple[str, ...]
    flip_pairs: tuple[tuple[int, int], ...]
    skeleton: tuple[tuple[int, int], ...]
    sigmas: tuple[float, ...]
    neck_from: tuple[int, int] | None = None
    dataset_types: tuple[str, ...] = field(default=(), compare=False)
    upper_body: tuple[int, ...] = ()  # joints the half-body augmentation counts as upper body
    parts: tuple[tuple[str, tuple[int, ...]], ...] = ()  # named body parts (body, foot, face, hands): per-part scores

    def __post_init__(self) -> None:
        k = len(self.names)
        if k == 0:
            raise ConfigError(f"keypoint set {self.name!r} has no joints")
        if len(set(self.names)) != k:
            raise ConfigError(f"keypoint set {self.name!r} has duplicate joint names")
        if self.sigmas and len(self.sigmas) != k:  # () = none declared: fine until something scores OKS
            raise ConfigError(f"keypoint set {self.name!r}: {len(self.sigmas)} sigmas for {k} joints")
        seen: set[int] = set()
        for a, b in self.flip_pairs:
            if not (0 <= a < k and 0 <= b < k) or a == b or a in seen or b in seen:
                raise ConfigError(f"keypoint set {self.name!r}: bad flip pair ({a}, {b}) for {k} joints")
            seen.update((a, b))
        if any(not 0 <= j < k for j in self.upper_body):
            raise ConfigError(f"keypoint set {self.name!r}: upper_body ids must lie in 0..{k - 1}")
        for part, ids in self.parts:
            if not ids or any(not 0 <= j < k for j in ids):
                raise ConfigError(f"keypoint set {self.name!r}: part {part!r} needs joint ids in 0..{k - 1}")
        drawable = k + (1 if self.neck_from else 0)
        for a, b in self.skeleton:
            if not (0 <= a < drawable and 0 <= b < drawable):
                raise ConfigError(f"keypoint set {self.name!r}: skeleton edge ({a}, {b}) out of range")

    @property
    def num_joints(self) -> int:
        """K, the number of joints."""
        return len(self.names)

    @property
    def sigma_array(self) -> np.ndarray:
        """OKS sigmas as a float64 array (COCO's per-joint falloff); one line naming what to add when none exist."""
        if not self.sigmas:
            raise ConfigError(
                f"keypoint set {self.name!r} declares no OKS sigmas, so it cannot be scored; add "
                f'"sigmas": [{self.num_joints} per-joint values] to its definition (COCO-17 uses 0.025-0.107)'
            )
        return np.asarray(self.sigmas, dtype=np.float64)

    def part(self, name: str) -> tuple[int, ...]:
        """The joint ids of a named part (``body``, ``foot``, ``face``, ``left_hand``...); () when there is none."""
        return dict(self.parts).get(name, ())

    def flip_permutation(self) -> np.ndarray:
        """Index array p such that ``flipped[:, p]`` swaps every left/right pair."""
        from alphapose_kit.codecs.flip import flip_permutation

        return np.asarray(flip_permutation(self.num_joints, self.flip_pairs))

    @classmethod
    def from_json(cls, path: str | Path) -> KeypointSet:
        """Load a custom set from JSON: {"name", "names", "flip_pairs", "skeleton", "sigmas"[, "neck_from",
        "upper_body", "parts": {part name: [joint ids]}]}."""
        path = Path(path)
        try:
            spec = json.loads(path.read_text())
            return keypoint_set_from_record({"name": path.stem, **spec})
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"cannot read keypoint set {path}: {exc!r}") from None


def keypoint_set_record(keypoint_set: KeypointSet) -> dict[str, Any]:
    """The set's definition as plain JSON data (what a custom set's file holds), so it can travel with results."""
    record = dataclasses.asdict(keypoint_set)
    record.pop("dataset_types", None)
    return json.loads(json.dumps(record))  # tuples -> lists, as a JSON file gives them back


def keypoint_set_from_record(spec: dict[str, Any]) -> KeypointSet:
    """A set from its definition (:func:`keypoint_set_record`'s output or a custom set's JSON); raises KeyError,
    TypeError or ValueError (ConfigError for an inconsistent set) on a malformed one."""
    return KeypointSet(
        name=str(spec["name"]),
        names=tuple(str(n) for n in spec["names"]),
        flip_pairs=tuple((int(a), int(b)) for a, b in spec.get("flip_pairs", [])),
        skeleton=tuple((int(a), int(b)) for a, b in spec.get("skeleton", [])),
        sigmas=tuple(float(s) for s in spec.get("sigmas", [])),  # none: an error only when scored
        neck_from=(int(spec["neck_from"][0]), int(spec["neck_from"][1])) if spec.get("neck_from") else None,
        upper_body=tuple(int(j) for j in spec.get("upper_body", [])),
        parts=_parts_of(spec.get("parts") or ()),
    )


def _parts_of(parts: Any) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """Parts from a custom set's ``{"face": [ids]}`` or a record's ``[["face", [ids]], ...]``."""
    items = parts.items() if isinstance(parts, dict) else parts
    return tuple((str(name), tuple(int(j) for j in ids)) for name, ids in items)


_COCO_NAMES = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
_COCO_PAIRS = ((1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16))
_COCO_SIGMAS = tuple(
    s / 10
    for s in (
        0.26,
        0.25,
        0.25,
        0.35,
        0.35,
        0.79,
        0.79,
        0.72,
        0.72,
        0.62,
        0.62,
        1.07,
        1.07,
        0.87,
        0.87,
        0.89,
        0.89,
    )
)

# fmt: off
_COCO_SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 6), (5, 7), (7, 9), (6, 8), (8, 10),
    (17, 11), (17, 12), (11, 13), (12, 14), (13, 15), (14, 16),
)
_HALPE26_SKELETON = (
    (0, 1), (0, 2), (1, 3), (2, 4), (5, 18), (6, 18), (5, 7), (7, 9), (6, 8), (8, 10),
    (17, 18), (18, 19), (19, 11), (19, 12), (11, 13), (12, 14), (13, 15), (14, 16),
    (20, 24), (21, 25), (23, 25), (22, 24), (15, 24), (16, 25),
)
# fmt: on

COCO17 = KeypointSet(
    name="coco17",
    names=_COCO_NAMES,
    flip_pairs=_COCO_PAIRS,
    skeleton=_COCO_SKELETON,
    sigmas=_COCO_SIGMAS,
    neck_from=(5, 6),
    dataset_types=("Mscoco", "Mscoco_det", "coco"),
    upper_body=tuple(range(11)),  # AlphaPose's upper_body_ids: nose to wrists
    parts=(("body", tuple(range(17))),),
)

HALPE26 = KeypointSet(
    name="halpe26",
    names=(
        *_COCO_NAMES,
        "head",
        "neck",
        "hip",
        "left_big_toe",
        "right_big_toe",
        "left_small_toe",
        "right_small_toe",
        "left_heel",
        "right_heel",
    ),
    flip_pairs=(*_COCO_PAIRS, (20, 21), (22, 23), (24, 25)),
    skeleton=_HALPE26_SKELETON,
    sigmas=(*_COCO_SIGMAS, *(s / 10 for s in (0.8, 0.8, 0.8, 0.89, 0.89, 0.89, 0.89, 0.89, 0.89))),
    dataset_types=("Halpe_26", "Halpe_26_det", "Halpe_coco_wholebody_26", "Halpe_coco_wholebody_26_det"),
    upper_body=tuple(range(11)),  # as AlphaPose: head, neck and hip (17-19) count as lower body
    parts=(("body", tuple(range(20))), ("foot", tuple(range(20, 26)))),
)

_REGISTRY: dict[str, KeypointSet] = {}


def register_keypoint_set(keypoint_set: KeypointSet) -> KeypointSet:
    """Make a custom set selectable by name (``DATA_PRESET.KEYPOINT_SET``); returns it."""
    _REGISTRY[keypoint_set.name] = keypoint_set
    return keypoint_set


register_keypoint_set(COCO17)
register_keypoint_set(HALPE26)


def keypoint_set_names() -> list[str]:
    """Names of every registered keypoint set."""
    return sorted(_REGISTRY)


def get_keypoint_set(name: str | int | Path) -> KeypointSet:
    """A registered set by name, a built-in one by joint count (17, 26), or a custom one from a JSON file."""
    if isinstance(name, int):
        for candidate in _REGISTRY.values():
            if candidate.num_joints == name:
                return candidate
        raise ConfigError(f"no keypoint set with {name} joints; register one (see README: custom keypoint sets)")
    key = str(name)
    if key in _REGISTRY:
        return _REGISTRY[key]
    if key.endswith(".json"):
        if not Path(key).is_file():
            raise ConfigError(f"keypoint set file not found: {key}")
        return KeypointSet.from_json(key)
    raise ConfigError(f"unknown keypoint set {key!r}; known: {', '.join(keypoint_set_names())}")


def keypoint_set_for(num_joints: int, set_name: str = "", dataset_type: str | Sequence[str] = "") -> KeypointSet:
    """Resolve the set a config means: explicit name first, then the dataset class, then the joint count.

    Raises if the resolved set's joint count disagrees with ``num_joints``.
    """
    if set_name:
        chosen = get_keypoint_set(set_name)
    else:
        types = [dataset_type] if isinstance(dataset_type, str) else list(dataset_type)
        by_type = [s for s in _REGISTRY.values() if any(t in s.dataset_types for t in types)]
        chosen = by_type[0] if by_type else get_keypoint_set(num_joints)
    if chosen.num_joints != num_joints:
        raise ConfigError(
            f"keypoint set {chosen.name!r} has {chosen.num_joints} joints but DATA_PRESET.NUM_JOINTS is {num_joints}"
        )
    return chosen


def keypoint_set_of(cfg: CfgNode) -> KeypointSet:
    """The keypoint set a config's model predicts (:func:`keypoint_set_for` of its ``DATA_PRESET.KEYPOINT_SET``,
    train dataset type and ``DATA_PRESET.NUM_JOINTS``)."""
    preset = cfg.DATA_PRESET
    return keypoint_set_for(int(preset.NUM_JOINTS), preset.KEYPOINT_SET, cfg.DATASET.TRAIN.TYPE)
