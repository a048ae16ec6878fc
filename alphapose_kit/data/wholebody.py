"""Whole-body keypoint sets: Halpe-136, COCO-WholeBody-133, Halpe-68 (no face) and the single hand (21).

Layouts are built from their parts (body, feet, the 68 iBUG face landmarks, two 21-joint hands) so that every flip
pair, skeleton edge and part range follows from one description of each part. The layouts, flip pairs and the
Halpe sigmas are AlphaPose's (``alphapose/datasets/{halpe_136,coco_wholebody,halpe_68_noface,single_hand}.py``,
``alphapose/utils/pPose_nms.py``; Fang et al., TPAMI 2022); the COCO-WholeBody sigmas are the dataset's official
per-part values (Jin et al., "Whole-Body Human Pose Estimation in the Wild", ECCV 2020; xtcocotools). Joint names
follow COCO-WholeBody's (as MMPose's dataset description spells them).
"""

from __future__ import annotations

from itertools import pairwise

from alphapose_kit.data.keypoints import COCO17, HALPE26, KeypointSet, register_keypoint_set

FOOT_NAMES = ("left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe", "right_heel")
FINGERS = ("thumb", "forefinger", "middle_finger", "ring_finger", "pinky_finger")


def hand_names(side: str) -> tuple[str, ...]:
    """The 21 joints of one hand: its root (the wrist) then four joints per finger, thumb to little finger."""
    return (f"{side}_hand_root", *(f"{side}_{finger}{i}" for finger in FINGERS for i in range(1, 5)))


def hand_edges(root: int) -> tuple[tuple[int, int], ...]:
    """Each finger as a chain from the hand's root through its four joints."""
    edges: list[tuple[int, int]] = []
    for f in range(5):
        chain = [root, *(root + 1 + 4 * f + i for i in range(4))]
        edges.extend(pairwise(chain))
    return tuple(edges)


# The 68 iBUG-300W face landmarks (Sagonas et al., 2013): each part as index ranges and its mirror image.
_FACE_CHAINS = (
    tuple(range(0, 17)),  # jaw line, right to left as seen in the image
    tuple(range(17, 22)),  # right eyebrow
    tuple(range(22, 27)),  # left eyebrow
    tuple(range(27, 31)),  # nose bridge
    tuple(range(31, 36)),  # lower nose
)
_FACE_LOOPS = (
    tuple(range(36, 42)),  # right eye
    tuple(range(42, 48)),  # left eye
    tuple(range(48, 60)),  # outer lips
    tuple(range(60, 68)),  # inner lips
)
_FACE_MIRROR = (
    *((i, 16 - i) for i in range(8)),  # jaw
    *((17 + i, 26 - i) for i in range(5)),  # eyebrows
    (31, 35),
    (32, 34),  # nostrils
    (36, 45),
    (37, 44),
    (38, 43),
    (39, 42),
    (40, 47),
    (41, 46),  # eyes
    (48, 54),
    (49, 53),
    (50, 52),
    (55, 59),
    (56, 58),  # outer lips
    (60, 64),
    (61, 63),
    (65, 67),  # inner lips
)


def face_names() -> tuple[str, ...]:
    """The 68 face landmarks, named as COCO-WholeBody does (``face-0`` ... ``face-67``)."""
    return tuple(f"face-{i}" for i in range(68))


def face_edges(start: int) -> tuple[tuple[int, int], ...]:
    """The face drawn as its contours: open chains (jaw, brows, nose) and closed loops (eyes, lips)."""
    edges = [(start + a, start + b) for chain in _FACE_CHAINS for a, b in pairwise(chain)]
    for loop in _FACE_LOOPS:
        edges.extend((start + a, start + b) for a, b in zip(loop, (*loop[1:], loop[0]), strict=True))
    return tuple(edges)


def face_flip_pairs(start: int) -> tuple[tuple[int, int], ...]:
    """Left/right mirror pairs of the face landmarks placed at ``start``."""
    return tuple((start + a, start + b) for a, b in _FACE_MIRROR)


def _hands_flip(left: int, right: int) -> tuple[tuple[int, int], ...]:
    return tuple((left + i, right + i) for i in range(21))


# COCO-WholeBody's official sigmas, part by part (xtcocotools' COCOeval, ``sigmas_wholebody``).
COCO_WHOLEBODY_FOOT_SIGMAS = (0.068, 0.066, 0.066, 0.092, 0.094, 0.094)
# fmt: off
COCO_WHOLEBODY_FACE_SIGMAS = (
    0.042, 0.043, 0.044, 0.043, 0.040, 0.035, 0.031, 0.025, 0.020, 0.023, 0.029, 0.032, 0.037, 0.038, 0.043,
    0.041, 0.045, 0.013, 0.012, 0.011, 0.011, 0.012, 0.012, 0.011, 0.011, 0.013, 0.015, 0.009, 0.007, 0.007,
    0.007, 0.012, 0.009, 0.008, 0.016, 0.010, 0.017, 0.011, 0.009, 0.011, 0.009, 0.007, 0.013, 0.008, 0.011,
    0.012, 0.010, 0.034, 0.008, 0.008, 0.009, 0.008, 0.008, 0.007, 0.010, 0.008, 0.009, 0.009, 0.009, 0.007,
    0.007, 0.008, 0.011, 0.008, 0.008, 0.008, 0.01, 0.008,
)
COCO_WHOLEBODY_HAND_SIGMAS = (
    0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024, 0.022, 0.026, 0.017,
    0.021, 0.021, 0.032, 0.02, 0.019, 0.022, 0.031,
)
# fmt: on
HALPE_EXTRA_SIGMA = 0.025  # AlphaPose's sigma for every Halpe face and hand joint (pPose_nms.oks_iou)

COCO_WHOLEBODY133 = KeypointSet(
    name="coco_wholebody133",
    names=(*COCO17.names, *FOOT_NAMES, *face_names(), *hand_names("left"), *hand_names("right")),
    flip_pairs=(
        *COCO17.flip_pairs,
        (17, 20),
        (18, 21),
        (19, 22),
        *face_flip_pairs(23),
        *_hands_flip(91, 112),
    ),
    skeleton=(
        *(edge for edge in COCO17.skeleton if 17 not in edge),  # no virtual neck: 17 is a toe here
        (5, 11),
        (6, 12),
        (11, 12),
        (15, 19),
        (19, 17),
        (19, 18),
        (16, 22),
        (22, 20),
        (22, 21),
        *face_edges(23),
        (9, 91),
        *hand_edges(91),
        (10, 112),
        *hand_edges(112),
    ),
    sigmas=(
        *COCO17.sigmas,
        *COCO_WHOLEBODY_FOOT_SIGMAS,
        *COCO_WHOLEBODY_FACE_SIGMAS,
        *COCO_WHOLEBODY_HAND_SIGMAS,
        *COCO_WHOLEBODY_HAND_SIGMAS,
    ),
    dataset_types=("coco_wholebody", "coco_wholebody_det"),
    upper_body=tuple(range(11)),  # AlphaPose's upper_body_ids (custom.py) for every set
    parts=(
        ("body", tuple(range(0, 17))),
        ("foot", tuple(range(17, 23))),
        ("face", tuple(range(23, 91))),
        ("left_hand", tuple(range(91, 112))),
        ("right_hand", tuple(range(112, 133))),
    ),
)

HALPE136 = KeypointSet(
    name="halpe136",
    names=(*HALPE26.names, *face_names(), *hand_names("left"), *hand_names("right")),
    flip_pairs=(*HALPE26.flip_pairs, *face_flip_pairs(26), *_hands_flip(94, 115)),
    skeleton=(*HALPE26.skeleton, *face_edges(26), (9, 94), *hand_edges(94), (10, 115), *hand_edges(115)),
    sigmas=(*HALPE26.sigmas, *(HALPE_EXTRA_SIGMA,) * 110),
    dataset_types=("Halpe_136", "Halpe_136_det", "Halpe_coco_wholebody_136", "Halpe_coco_wholebody_136_det"),
    upper_body=tuple(range(11)),
    parts=(
        ("body", tuple(range(0, 20))),
        ("foot", tuple(range(20, 26))),
        ("face", tuple(range(26, 94))),
        ("left_hand", tuple(range(94, 115))),
        ("right_hand", tuple(range(115, 136))),
    ),
)

HALPE68 = KeypointSet(
    name="halpe68",
    names=(*HALPE26.names, *hand_names("left"), *hand_names("right")),
    flip_pairs=(*HALPE26.flip_pairs, *_hands_flip(26, 47)),
    skeleton=(*HALPE26.skeleton, (9, 26), *hand_edges(26), (10, 47), *hand_edges(47)),
    sigmas=(*HALPE26.sigmas, *(HALPE_EXTRA_SIGMA,) * 42),
    dataset_types=("Halpe_68_noface", "Halpe_68_noface_det"),
    upper_body=tuple(range(11)),
    parts=(
        ("body", tuple(range(0, 20))),
        ("foot", tuple(range(20, 26))),
        ("left_hand", tuple(range(26, 47))),
        ("right_hand", tuple(range(47, 68))),
    ),
)

HAND21 = KeypointSet(
    name="hand21",
    names=tuple(name.removeprefix("hand_") for name in hand_names("hand")),
    flip_pairs=(),  # one hand: a mirrored left hand is a right hand, nothing to swap (AlphaPose: joint_pairs = [])
    skeleton=hand_edges(0),
    sigmas=COCO_WHOLEBODY_HAND_SIGMAS,
    dataset_types=("SingleHand", "SingleHand_det"),
    upper_body=(),  # no half-body augmentation for a hand (AlphaPose's configs set PROB_HALF_BODY 0)
    parts=(("hand", tuple(range(21))),),
)

WHOLEBODY_SETS = (HALPE136, COCO_WHOLEBODY133, HALPE68, HAND21)

# COCO-WholeBody's annotation and result field of each part of COCO_WHOLEBODY133, in the order its joints concatenate
COCO_WHOLEBODY_FIELDS = (
    ("body", "keypoints"),
    ("foot", "foot_kpts"),
    ("face", "face_kpts"),
    ("left_hand", "lefthand_kpts"),
    ("right_hand", "righthand_kpts"),
)
for _set in WHOLEBODY_SETS:
    register_keypoint_set(_set)
