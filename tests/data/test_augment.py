"""AlphaPose's training augmentation, step by step, on real annotated COCO people (../shared/data/coco).

Geometry is checked with markers painted on the real image at the annotated joints: after the warp, every joint the
transform reports must sit on its own marker (rotation, scale) or on its mirror partner's marker (flip). The facts
followed are in ../shared/reference/alphapose-facts.md section 6 and alphapose-train-eval-facts.md section B2.
"""

from __future__ import annotations

import json
import math
from functools import cache

import cv2
import numpy as np
import pytest

from alphapose_kit.codecs import codec_class
from alphapose_kit.data.augment import (
    AugmentSettings,
    TrainTransform,
    dpg_jitter_box,
    flip_sample,
    half_body_center_scale,
    random_rotation,
    random_scale,
)
from alphapose_kit.data.keypoints import COCO17, KeypointSet
from alphapose_kit.data.transforms import PIXEL_MEANS_RGB, box_to_center_scale, crop_people
from alphapose_kit.errors import ConfigError
from tests.paths import COCO

INPUT = (256, 192)


@cache
def _people() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """(file, AlphaPose xyxy box, joints (17, 2), visibility (17,)) for every person with keypoints."""
    data = json.loads((COCO / "person_keypoints.json").read_text())
    images = {im["id"]: im for im in data["images"]}
    people = []
    for ann in data["annotations"]:
        if ann["num_keypoints"] == 0:
            continue
        im = images[ann["image_id"]]
        x, y, w, h = ann["bbox"]
        box = np.array([x, y, min(x + max(w - 1, 0), im["width"] - 1), min(y + max(h - 1, 0), im["height"] - 1)])
        kp = np.asarray(ann["keypoints"], dtype=np.float32).reshape(-1, 3)
        people.append((im["file_name"], box, kp[:, :2], np.minimum(kp[:, 2], 1)))
    return people


@cache
def _image(name: str) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(COCO / name)), cv2.COLOR_BGR2RGB)


def _person(index: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    name, box, joints, vis = _people()[index]
    return _image(name).copy(), box, joints, vis


def _pixels(sample: dict) -> np.ndarray:
    """The crop back in 0..255 RGB (H, W, 3)."""
    img = sample["image"] + np.asarray(PIXEL_MEANS_RGB, dtype=np.float32)[:, None, None]
    return np.transpose(img * 255, (1, 2, 0))


def _joint_xy(sample: dict) -> np.ndarray:
    """Exact crop-pixel joints from an integral target: x = (t + 0.5) W, y = (t + 0.5) H."""
    t = sample["target"].reshape(-1, 2)
    return (t + 0.5) * np.array([INPUT[1], INPUT[0]], dtype=np.float32)


def _paint(image: np.ndarray, joints: np.ndarray, vis: np.ndarray, colours: dict[int, tuple[int, int, int]]) -> None:
    """Solid 9 x 9 squares of each joint's colour, centred on the joint's pixel."""
    for j, colour in colours.items():
        if vis[j] > 0:
            x, y = round(float(joints[j, 0])), round(float(joints[j, 1]))
            image[max(y - 4, 0) : y + 5, max(x - 4, 0) : x + 5] = colour


def _transform(settings: AugmentSettings, loss: str = "L1JointRegression", kps: KeypointSet = COCO17):
    return TrainTransform(kps, settings, codec_class(loss)(len(kps.names), INPUT, (64, 48), 2))


MAGENTA = (255, 0, 255)


@pytest.mark.parametrize("index", [0, 4, 9])
def test_rotated_and_scaled_crop_keeps_every_joint_on_its_marker(index: int) -> None:
    image, box, joints, vis = _person(index)
    _paint(image, joints, vis, dict.fromkeys(range(17), MAGENTA))
    transform = _transform(AugmentSettings(scale_factor=0.3, rot_factor=40, rot_prob=1.0, flip=False))
    rotations = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        sample = transform(image, box, joints, vis, rng)
        rotations.append(random_rotation(40, 1.0, np.random.default_rng(seed)))
        crop, xy = _pixels(sample), _joint_xy(sample)
        inside = (vis > 0) & (xy[:, 0] >= 1) & (xy[:, 0] < INPUT[1] - 2) & (xy[:, 1] >= 1) & (xy[:, 1] < INPUT[0] - 2)
        assert inside.sum() >= 8
        for j in np.flatnonzero(inside):
            x, y = xy[j]
            # bilinear read at the reported position and one pixel around it: all on the (shrunk) marker
            for dx, dy in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                colour = cv2.getRectSubPix(crop.astype(np.float32), (1, 1), (float(x + dx), float(y + dy)))[0, 0]
                assert np.abs(colour - MAGENTA).max() < 40, (seed, j, colour)
    assert max(abs(r) for r in rotations) > 5  # the crops were really rotated


def _blob(shape: tuple[int, ...], x: float, y: float, sigma: float = 2.5) -> np.ndarray:
    """A uint8 Gaussian spot centred at the float position (x, y) on a black RGB canvas."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]]
    spot = 255 * np.exp(-((cols - x) ** 2 + (rows - y) ** 2) / (2 * sigma**2))
    return np.repeat(np.rint(spot).astype(np.uint8)[..., None], 3, axis=2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_joint_positions_are_subpixel_exact(seed: int) -> None:
    """The centroid of a spot painted at a real joint lands where the transform says the joint is (< 0.3 px)."""
    image, box, joints, vis = _person(0)
    transform = _transform(AugmentSettings(scale_factor=0.3, rot_factor=40, rot_prob=1.0, flip=True))
    xy = _joint_xy(transform(image, box, joints, vis, np.random.default_rng(seed)))
    partner = COCO17.flip_permutation()
    plain = _transform(AugmentSettings.off())(image, box, joints, vis, np.random.default_rng(0))["box"]
    got = transform(image, box, joints, vis, np.random.default_rng(seed))["box"]
    flipped = not np.isclose(got[0] + got[2], plain[0] + plain[2])  # scale and rotation keep the centre
    checked = 0
    for j in range(0, 17, 2):
        canvas = _blob(image.shape, float(joints[j, 0]), float(joints[j, 1]))
        crop = _pixels(transform(canvas, box, joints, vis, np.random.default_rng(seed))).mean(axis=2)
        k = partner[j] if flipped else j
        x, y = xy[k]
        if not (8 <= x < INPUT[1] - 8 and 8 <= y < INPUT[0] - 8):
            continue
        x0, y0 = int(x) - 8, int(y) - 8
        win = np.clip(crop[y0 : y0 + 17, x0 : x0 + 17], 0, None)
        rows, cols = np.mgrid[y0 : y0 + 17, x0 : x0 + 17]
        centroid = np.array([(win * cols).sum(), (win * rows).sum()]) / win.sum()
        assert np.hypot(*(centroid - (x, y))) < 0.3, (j, centroid, (x, y))
        checked += 1
    assert checked >= 6


def test_flip_puts_each_joint_on_its_partners_marker_and_mirrors_the_box() -> None:
    image, box, joints, vis = _person(0)  # all 17 joints labelled
    colours = {j: (40 + 12 * j, 255 - 12 * j, (97 * j) % 256) for j in range(17)}
    _paint(image, joints, vis, colours)
    transform = _transform(AugmentSettings(scale_factor=0, rot_factor=0, flip=True))
    plain = _transform(AugmentSettings.off())(image, box, joints, vis, np.random.default_rng(0))
    partner = COCO17.flip_permutation()
    flips = 0
    for seed in range(8):
        sample = transform(image, box, joints, vis, np.random.default_rng(seed))
        flipped = not np.array_equal(sample["box"], plain["box"])
        flips += flipped
        crop, xy = _pixels(sample), _joint_xy(sample)
        for j in range(17):
            source = partner[j] if flipped else j
            colour = cv2.getRectSubPix(crop.astype(np.float32), (1, 1), (float(xy[j, 0]), float(xy[j, 1])))[0, 0]
            assert np.abs(colour - colours[source]).max() < 12, (seed, j, source, colour)
        if flipped:  # crop centre mirrored: c_x -> W - c_x - 1
            w = image.shape[1]
            c_plain = (plain["box"][0] + plain["box"][2]) / 2
            c_flip = (sample["box"][0] + sample["box"][2]) / 2
            assert c_flip == pytest.approx(w - c_plain - 1, abs=1e-3)
    assert 0 < flips < 8


def test_flip_sample_by_hand() -> None:
    image = np.arange(2 * 5 * 3, dtype=np.uint8).reshape(2, 5, 3)
    joints = np.array([[1, 0], [3, 1], [0, 0]], dtype=np.float32)
    vis = np.array([1, 1, 0], dtype=np.float32)
    out, pts, v, c = flip_sample(image, joints, vis, [2.0, 1.0], [(0, 1)])
    assert np.array_equal(out, image[:, ::-1])
    # W = 5: x -> 4 - x; joints 0 and 1 swap; the unlabelled joint becomes (0, 0)
    assert pts.tolist() == [[1, 1], [3, 0], [0, 0]]
    assert v.tolist() == [1, 1, 0]
    assert c.tolist() == [2.0, 1.0]


def test_no_augmentation_gives_the_inference_crop_bit_for_bit() -> None:
    image, box, joints, vis = _person(2)
    sample = _transform(AugmentSettings.off(), "MSELoss")(image, box, joints, vis, np.random.default_rng(0))
    # the inference path: float64 box -> centre/scale x1.25 -> rotation-free crop -> normalisation
    center, scale = box_to_center_scale(box.astype(np.float64), INPUT[1] / INPUT[0])
    crops, cropped_boxes = crop_people(image, center[None], scale[None], INPUT)
    assert np.array_equal(sample["image"], crops[0])
    assert np.array_equal(sample["box"], cropped_boxes[0])


def test_heatmap_targets_peak_at_the_warped_joints() -> None:
    image, box, joints, vis = _person(9)
    settings = AugmentSettings(scale_factor=0.3, rot_factor=40, rot_prob=1.0, flip=False)
    hm = _transform(settings, "MSELoss")(image, box, joints, vis, np.random.default_rng(3))
    reg = _transform(settings)(image, box, joints, vis, np.random.default_rng(3))
    xy = _joint_xy(reg)
    assert hm["target"].shape == (17, 64, 48) and hm["target_weight"].shape == (17, 1, 1)
    for j in range(17):
        mu = np.trunc(xy[j] / 4 + 0.5).astype(int)  # AlphaPose: int(x / stride + 0.5)
        inside = 0 <= mu[0] < 48 and 0 <= mu[1] < 64
        if vis[j] == 0:
            assert hm["target_weight"][j] == 0 and hm["target"][j].max() == 0
        elif inside:
            assert hm["target_weight"][j] == 1 and hm["target"][j, mu[1], mu[0]] == 1.0


def test_scale_multiplier_is_clipped_gaussian() -> None:
    rng = np.random.default_rng(0)
    draws = np.array([random_scale(0.3, rng) for _ in range(4000)])
    assert draws.min() >= 0.7 and draws.max() <= 1.3
    # N(1, 0.3) clipped at 1 +- 1 sigma: 31.7 % of the draws sit on the bounds, the mean stays 1
    assert np.mean((draws == 0.7) | (draws == 1.3)) == pytest.approx(0.317, abs=0.03)
    assert draws.mean() == pytest.approx(1.0, abs=0.02)
    assert random_scale(0.0, rng) == 1.0


def test_scale_changes_the_crop_box_by_the_multiplier() -> None:
    image, box, joints, vis = _person(4)
    transform = _transform(AugmentSettings(scale_factor=0.3, rot_factor=0, flip=False))
    base = _transform(AugmentSettings.off())(image, box, joints, vis, np.random.default_rng(0))["box"]
    for seed in range(5):
        got = transform(image, box, joints, vis, np.random.default_rng(seed))["box"]
        ratio = (got[2] - got[0]) / (base[2] - base[0])
        assert ratio == pytest.approx(random_scale(0.3, np.random.default_rng(seed)), rel=1e-5)


def test_rotation_probability_and_range() -> None:
    rng = np.random.default_rng(1)
    draws = np.array([random_rotation(40, 0.6, rng) for _ in range(5000)])
    assert np.mean(draws != 0) == pytest.approx(0.6, abs=0.025)
    assert np.abs(draws).max() <= 80
    assert np.std(draws[draws != 0]) == pytest.approx(40 * 0.95, rel=0.06)  # N(0, 40) clipped at 2 sigma: sd 0.88-1
    assert random_rotation(0, 0.6, rng) == 0 and random_rotation(40, 0, rng) == 0


def test_half_body_box_covers_the_chosen_half() -> None:
    _, _, joints, vis = _person(0)
    upper_ids = set(COCO17.upper_body)
    upper_picks = 0
    trials = 3000
    rng = np.random.default_rng(0)
    for _ in range(trials):
        center, scale = half_body_center_scale(joints, vis, COCO17.upper_body, 0.75, rng)
        upper = joints[[j for j in range(17) if j in upper_ids]]
        lower = joints[[j for j in range(17) if j not in upper_ids]]
        chosen = upper if np.allclose(center, upper.mean(0), atol=1e-3) else lower
        upper_picks += chosen is upper
        assert np.allclose(center, chosen.mean(0), atol=1e-3)
        w, h = chosen.max(0) - chosen.min(0)
        w, h = max(w, 0.75 * h), max(h, w / 0.75)
        assert scale == pytest.approx([1.5 * w, 1.5 * h], rel=1e-5)
        assert scale[0] / scale[1] == pytest.approx(0.75, rel=1e-5)
    # QUIRK: upper when randn() < 0.5, i.e. with probability Phi(0.5) = 0.6915
    assert upper_picks / trials == pytest.approx(0.6915, abs=0.03)


def test_half_body_edge_cases() -> None:
    rng = np.random.default_rng(0)
    joints = np.array([[10, 10], [20, 30], [0, 0], [0, 0]], dtype=np.float32)
    vis = np.array([1, 1, 0, 0], dtype=np.float32)
    # two upper joints (not > 2) and no lower ones: falls back to the upper two
    center, scale = half_body_center_scale(joints, vis, [0, 1], 1.0, rng)
    assert center.tolist() == [15, 20] and scale.tolist() == [30, 30]
    assert half_body_center_scale(joints, [1, 0, 0, 0], [0, 1], 1.0, rng) is None  # one joint: no crop
    with pytest.raises(ConfigError, match="upper_body"):
        _transform(AugmentSettings(half_body_prob=0.3), kps=KeypointSet("x", ("a", "b"), (), (), (0.1, 0.1)))


def test_dpg_jitter_follows_the_two_regimes() -> None:
    box = np.array([100.0, 50.0, 300.0, 450.0])  # w 200, h 400
    rng = np.random.default_rng(0)
    subs, shifts = [], []
    for _ in range(6000):
        b = dpg_jitter_box(box, 640, 480, rng)
        w_ratio = (b[2] - b[0] - 1) / 200
        h_ratio = (b[3] - b[1] - 1) / 400
        if b[0] >= box[0] and b[2] <= box[2] + 1 and math.isclose(w_ratio, h_ratio) and w_ratio > 0.85:
            subs.append(w_ratio)
            assert b[1] >= box[1] and b[3] <= box[3] + 1
        else:
            shifts.append(b)
            assert 1 <= b[0] <= 637 and 1 <= b[1] <= 477 and b[2] <= 637 and b[3] <= 477
            assert b[2] >= b[0] + 2 and b[3] >= b[1] + 2
    assert len(subs) / 6000 == pytest.approx(0.15, abs=0.02)  # u > 0.85
    assert min(subs) > 0.85 and max(subs) <= 1
    dx1 = (np.array(shifts)[:, 0] - box[0]) / 200
    assert dx1.mean() == pytest.approx(-0.0142, abs=3 * 0.1158 / math.sqrt(len(dx1)))
    assert dx1.std() == pytest.approx(0.1158, rel=0.05)


def test_dpg_setting_moves_the_crop() -> None:
    image, box, joints, vis = _person(4)
    off = _transform(AugmentSettings.off())(image, box, joints, vis, np.random.default_rng(0))["box"]
    on = _transform(AugmentSettings(scale_factor=0, rot_factor=0, flip=False, dpg=True))
    moved = [not np.allclose(on(image, box, joints, vis, np.random.default_rng(s))["box"], off) for s in range(3)]
    assert all(moved)


def test_settings_from_config() -> None:
    from alphapose_kit.config import load_config

    cfg = load_config("coco/hrnet_w32_256x192")
    s = AugmentSettings.from_config(cfg.DATASET.TRAIN.AUG, dpg=True)
    assert (s.scale_factor, s.rot_factor, s.rot_prob, s.flip, s.half_body_prob, s.dpg) == (
        0.35,
        45,
        0.6,
        True,
        0.3,
        True,
    )
