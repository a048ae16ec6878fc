"""Heatmap decode, flip test, integral decode and Gaussian targets (AlphaPose inference steps 8-12, training
targets of section 6), plus an oracle on the real COCO annotations.

Expected numbers are derived by hand in the comments; the facts they follow are in
../shared/reference/alphapose-facts.md, sections 2, 6 and 8.
"""

from __future__ import annotations

import json
import math

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.codecs import (
    combined_split,
    decode_heatmaps,
    decode_pose,
    flip_heatmaps_back,
    flip_images,
    integral_decode,
    merge_flip,
    render_gaussian_heatmaps,
)
from alphapose_kit.data.transforms import (
    affine_transform_points,
    box_to_center_scale,
    center_scale_to_box,
    crop_people,
    get_affine_transform,
    heatmap_to_image,
)
from tests.paths import COCO

COCO_DIR = COCO
COCO_FLIP_PAIRS = [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)]
F32 = np.float32
H, W = 64, 48


def _maps(k: int = 1, fill: float = 0.0) -> np.ndarray:
    return np.full((1, k, H, W), fill, dtype=F32)


# ---------------------------------------------------------------------------------------------------------
# Step 9: argmax + quarter-pixel rule
# ---------------------------------------------------------------------------------------------------------


def test_interior_peak_moves_a_quarter_towards_the_larger_neighbour() -> None:
    hm = _maps(2)
    # joint 0: peak 1 at (x=20, y=10); right 0.5 > left 0.2 -> x + 0.25; up = down = 0 -> y stays
    hm[0, 0, 10, 20], hm[0, 0, 10, 21], hm[0, 0, 10, 19] = 1.0, 0.5, 0.2
    # joint 1: peak 2 at (x=30, y=40); above 0.7 > below 0.1 -> y - 0.25; left 0.3 > right 0 -> x - 0.25
    hm[0, 1, 40, 30], hm[0, 1, 39, 30], hm[0, 1, 41, 30], hm[0, 1, 40, 29] = 2.0, 0.7, 0.1, 0.3
    coords, scores = decode_heatmaps(hm)
    np.testing.assert_array_equal(coords, [[[20.25, 10.0], [29.75, 39.75]]])
    np.testing.assert_array_equal(scores, [[1.0, 2.0]])
    assert coords.dtype == np.float32 and scores.dtype == np.float32


def test_refinement_only_strictly_inside() -> None:
    hm = _maps(5)
    # x = 1 and y = 1 are NOT refined (1 < px is strict) even with an unequal neighbour
    hm[0, 0, 10, 1], hm[0, 0, 10, 2] = 1.0, 0.5
    hm[0, 1, 1, 10], hm[0, 1, 2, 10] = 1.0, 0.5
    # x = W-2 = 46 and y = H-2 = 62 are refined (46 < 47 = W-1)
    hm[0, 2, 62, 46], hm[0, 2, 62, 47], hm[0, 2, 63, 46] = 1.0, 0.5, 0.5
    # x = W-1 = 47 is not refined; neither is x = 0
    hm[0, 3, 30, 47], hm[0, 3, 30, 46] = 1.0, 0.5
    hm[0, 4, 30, 0], hm[0, 4, 30, 1] = 1.0, 0.5
    coords, _ = decode_heatmaps(hm)
    np.testing.assert_array_equal(coords[0], [[1, 10], [10, 1], [46.25, 62.25], [47, 30], [0, 30]])


def test_ties_take_the_first_maximum_in_row_major_order() -> None:
    hm = _maps(2)
    # (x=30, y=5) has flat index 5*48+30 = 270, (x=2, y=7) has 7*48+2 = 338 -> the first wins
    hm[0, 0, 5, 30] = hm[0, 0, 7, 2] = 1.0
    # same row: (x=10, y=5) (index 250) before (x=30, y=5) (index 270)
    hm[0, 1, 5, 10] = hm[0, 1, 5, 30] = 1.0
    coords, _ = decode_heatmaps(hm)
    np.testing.assert_array_equal(coords[0], [[30, 5], [10, 5]])


def test_non_positive_peak_gives_origin_and_keeps_the_raw_score() -> None:
    hm = _maps(2, fill=-1.0)
    hm[0, 0, 20, 30] = -0.5  # peak -0.5 <= 0 -> (0, 0), score -0.5
    hm[0, 1] = 0.0  # peak 0 <= 0 -> (0, 0), score 0
    coords, scores = decode_heatmaps(hm)
    np.testing.assert_array_equal(coords[0], [[0, 0], [0, 0]])
    np.testing.assert_array_equal(scores[0], [-0.5, 0.0])


def test_equal_neighbours_do_not_move() -> None:
    hm = _maps()
    hm[0, 0, 30, 20] = 1.0
    hm[0, 0, 30, 19] = hm[0, 0, 30, 21] = hm[0, 0, 29, 20] = hm[0, 0, 31, 20] = 0.25  # sign(0) = 0
    coords, _ = decode_heatmaps(hm)
    np.testing.assert_array_equal(coords[0, 0], [20, 30])


def _literal_decode(hm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step 9 written joint by joint, straight from the facts."""
    k, h, w = hm.shape
    coords = np.zeros((k, 2), dtype=F32)
    scores = np.zeros(k, dtype=hm.dtype)
    for j in range(k):
        flat = hm[j].reshape(-1)
        idx = int(np.argmax(flat))
        scores[j] = flat[idx]
        if flat[idx] <= 0:
            continue
        px, py = idx % w, idx // w
        coords[j] = (px, py)
        if 1 < px < w - 1 and 1 < py < h - 1:
            coords[j, 0] += 0.25 * np.sign(hm[j, py, px + 1] - hm[j, py, px - 1])
            coords[j, 1] += 0.25 * np.sign(hm[j, py + 1, px] - hm[j, py - 1, px])
    return coords, scores


def test_vectorised_decode_equals_the_literal_rule_for_numpy_and_torch() -> None:
    rng = np.random.default_rng(0)
    hm = (np.round(rng.normal(0, 0.4, (6, 17, H, W)) * 4) / 4).astype(F32)  # many ties and equal neighbours
    hm[:2] -= 3  # some people with only negative maps
    coords, scores = decode_heatmaps(hm)
    coords_t, scores_t = decode_heatmaps(torch.from_numpy(hm))
    np.testing.assert_array_equal(coords, coords_t)
    np.testing.assert_array_equal(scores, scores_t)
    for i in range(len(hm)):
        ref_c, ref_s = _literal_decode(hm[i])
        np.testing.assert_array_equal(coords[i], ref_c)
        np.testing.assert_array_equal(scores[i], ref_s)
    with pytest.raises(ValueError, match=r"\(N, K, H, W\)"):
        decode_heatmaps(hm[0])


# ---------------------------------------------------------------------------------------------------------
# Step 8: flip test
# ---------------------------------------------------------------------------------------------------------


def test_flip_back_swaps_pairs_and_shifts_one_column() -> None:
    flipped = np.zeros((1, 17, H, W), dtype=F32)
    flipped[0, 5, 12, 10] = 1.0  # left shoulder seen at column 10 of the mirrored crop
    flipped[0, 0, 20, 30] = 2.0  # nose: not in a pair
    back = flip_heatmaps_back(flipped, COCO_FLIP_PAIRS)
    # width flip: column 47 - 10 = 37; channel 5 -> 6; shift right by one: 38 = W - x
    assert back[0, 6, 12, 38] == 1.0 and back[0, 6].sum() == 1.0 and back[0, 5].sum() == 0.0
    # nose stays in channel 0 at column W - 30 = 18
    assert back[0, 0, 20, 18] == 2.0 and back[0, 0].sum() == 2.0


def test_flip_back_keeps_column_zero() -> None:
    flipped = np.zeros((2, 17, H, W), dtype=F32)
    flipped[:, 3, :, W - 1] = 7.0  # becomes column 0 after the width flip, in channel 4
    back = flip_heatmaps_back(flipped, COCO_FLIP_PAIRS)
    # new[x] = old[x - 1] for x >= 1 and new[0] = old[0]: both columns 0 and 1 hold the 7s
    assert (back[:, 4, :, 0] == 7).all() and (back[:, 4, :, 1] == 7).all() and back[:, 4, :, 2:].sum() == 0


def test_flip_back_torch_numpy_and_no_shift() -> None:
    rng = np.random.default_rng(1)
    flipped = rng.normal(size=(3, 17, H, W)).astype(F32)
    t_in = torch.from_numpy(flipped.copy())
    back_t = flip_heatmaps_back(t_in, COCO_FLIP_PAIRS)
    back_n = flip_heatmaps_back(flipped, COCO_FLIP_PAIRS)
    np.testing.assert_array_equal(back_t.numpy(), back_n)
    np.testing.assert_array_equal(t_in.numpy(), flipped)  # the input is not modified (no in-place shift)
    perm = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    plain = flip_heatmaps_back(flipped, COCO_FLIP_PAIRS, shift=False)
    np.testing.assert_array_equal(plain, flipped[:, perm, :, ::-1])
    np.testing.assert_array_equal(back_n[..., 1:], plain[..., :-1])
    np.testing.assert_array_equal(flip_heatmaps_back(flipped[0], COCO_FLIP_PAIRS), back_n[0])


def test_flip_of_an_equivariant_model_is_consistent() -> None:
    # A model that is exactly mirror-equivariant under AlphaPose's convention outputs, for the mirrored crop,
    # hf[j, x'] = h[swap(j), W - x'] (x' >= 1). Flipping back must then give h on every column x >= 1, and the
    # flip-test average (h + h_back) / 2 equals h there.
    rng = np.random.default_rng(2)
    h = rng.normal(size=(2, 17, H, W)).astype(F32)
    perm = [0, 2, 1, 4, 3, 6, 5, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15]
    hf = np.zeros_like(h)
    hf[..., 1:] = h[:, perm][..., ::-1][..., : W - 1]  # hf[x'] = h_swapped[W - x'] for x' = 1..W-1
    back = flip_heatmaps_back(hf, COCO_FLIP_PAIRS)
    np.testing.assert_array_equal(back[..., 1:], h[..., 1:])
    np.testing.assert_array_equal(merge_flip(h, back)[..., 1:], h[..., 1:])
    # mirroring the crops twice is the identity, for numpy and torch alike
    crops = rng.normal(size=(2, 3, 256, 192)).astype(F32)
    np.testing.assert_array_equal(flip_images(flip_images(crops)), crops)
    np.testing.assert_array_equal(flip_images(torch.from_numpy(crops)).numpy(), crops[..., ::-1])


def test_merge_flip_is_the_mean() -> None:
    a = torch.tensor([1.0, 3.0])
    b = torch.tensor([2.0, -1.0])
    assert merge_flip(a, b).tolist() == [1.5, 1.0]


# ---------------------------------------------------------------------------------------------------------
# Step 12: integral decode
# ---------------------------------------------------------------------------------------------------------


def test_integral_decode_one_hot_and_midpoint() -> None:
    logits = torch.full((1, 3, H, W), -30.0)
    logits[0, 0, 20, 13] = 30.0  # one hot at (x=13, y=20)
    logits[0, 1, 20, 10] = logits[0, 1, 20, 16] = 30.0  # two equal pixels -> midpoint x = 13
    logits[0, 2, 5, 40] = logits[0, 2, 9, 40] = 30.0  # vertical pair -> (40, 7)
    coords, scores = integral_decode(logits)
    # sigmoid(-30) = 9.4e-14 per background pixel, 3070 of them: the pull on the mean is below 1e-7 px
    np.testing.assert_allclose(coords[0], [[13, 20], [13, 20], [40, 7]], atol=1e-4)
    # score = max sigmoid = sigmoid(30) = 1 - 9.4e-14, which is 1.0 in float32
    np.testing.assert_array_equal(scores, [[1.0, 1.0, 1.0]])
    assert coords.dtype == np.float32 and scores.dtype == np.float32


def test_integral_decode_matches_float64_formula_and_is_batch_invariant() -> None:
    rng = np.random.default_rng(3)
    logits = (rng.normal(size=(5, 7, H, W)) * 2 - 3).astype(F32)
    coords, scores = integral_decode(torch.from_numpy(logits))
    p = 1 / (1 + np.exp(-logits.astype(np.float64)))
    q = p / p.sum(axis=(2, 3), keepdims=True)
    np.testing.assert_allclose(coords[..., 0], (q * np.arange(W)).sum(axis=(2, 3)), atol=1e-3)
    np.testing.assert_allclose(coords[..., 1], (q * np.arange(H)[:, None]).sum(axis=(2, 3)), atol=1e-3)
    np.testing.assert_allclose(scores, p.max(axis=(2, 3)), rtol=1e-6)
    # AlphaPose decodes one person at a time; the batched result must be bit-identical
    for i in range(5):
        c_i, s_i = integral_decode(logits[i : i + 1])
        np.testing.assert_array_equal(c_i, coords[i : i + 1])
        np.testing.assert_array_equal(s_i, scores[i : i + 1])


def test_integral_decode_flip_averages_coordinates_and_scores() -> None:
    rng = np.random.default_rng(4)
    a = torch.from_numpy(rng.normal(size=(2, 4, H, W)).astype(F32))
    b = torch.from_numpy(rng.normal(size=(2, 4, H, W)).astype(F32))
    ca, sa = integral_decode(a)
    cb, sb = integral_decode(b)
    c, s = integral_decode(a, heatmaps_flip=b)
    np.testing.assert_allclose(c, (ca + cb) / 2, atol=1e-4)
    np.testing.assert_allclose(s, (sa + sb) / 2, atol=1e-6)
    _, s_soft = integral_decode(a, norm_type="softmax")
    np.testing.assert_array_equal(s_soft, 1.0)
    with pytest.raises(ValueError, match="NORM_TYPE"):
        integral_decode(a, norm_type="bogus")


def test_combined_split_and_decode_pose() -> None:
    assert combined_split(136) == 26  # Halpe-136: 26 body+feet from heatmaps, 110 face+hands integral
    assert combined_split(133) == 23  # COCO-WholeBody: 23 body+feet, 110 face+hands
    assert combined_split(68) == 26  # 68 no-face: 26 body+feet, 42 hands
    with pytest.raises(ValueError):
        combined_split(17)
    rng = np.random.default_rng(5)
    hm = torch.from_numpy(rng.normal(size=(2, 68, H, W)).astype(F32))
    coords, scores = decode_pose(hm, "Combined", "sigmoid")
    c1, s1 = decode_heatmaps(hm[:, :26])
    c2, s2 = integral_decode(hm[:, 26:])
    np.testing.assert_array_equal(coords, np.concatenate([c1, c2], axis=1))
    np.testing.assert_array_equal(scores, np.concatenate([s1, s2], axis=1))
    np.testing.assert_array_equal(decode_pose(hm, "MSELoss")[0], decode_heatmaps(hm)[0])
    np.testing.assert_array_equal(decode_pose(hm, "L1JointRegression")[0], integral_decode(hm)[0])
    # validate.py flip semantics: heatmap joints decode the averaged maps
    hf = torch.from_numpy(rng.normal(size=(2, 68, H, W)).astype(F32))
    np.testing.assert_array_equal(decode_pose(hm, "MSELoss", heatmaps_flip=hf)[0], decode_heatmaps((hm + hf) / 2)[0])
    with pytest.raises(ValueError, match="LOSS.TYPE"):
        decode_pose(hm, "Bogus")


# ---------------------------------------------------------------------------------------------------------
# Section 6: Gaussian training targets
# ---------------------------------------------------------------------------------------------------------


def test_gaussian_target_training_rule() -> None:
    coords = np.array([[10.4, 20.6], [-0.7, 5.2]])
    maps, weights = render_gaussian_heatmaps(coords, [1, 1], (H, W), sigma=2)
    assert maps.shape == (2, H, W) and maps.dtype == np.float32
    # centre (int(10.4 + 0.5), int(20.6 + 0.5)) = (10, 21): peak 1 there
    assert maps[0, 21, 10] == 1.0 and maps[0].max() == 1.0
    # 13 x 13 support: rows 21-6..21+6 = 15..27, columns 4..16, all > 0 (corner exp(-72/8) = exp(-9))
    nz = np.argwhere(maps[0] > 0)
    assert len(nz) == 169 and nz[:, 0].min() == 15 and nz[:, 0].max() == 27 and nz[:, 1].min() == 4
    np.testing.assert_allclose(maps[0, 27, 16], math.exp(-9), rtol=1e-6)
    np.testing.assert_allclose(maps[0, 21, 13], math.exp(-9 / 8), rtol=1e-6)  # 3 px away: exp(-9/(2*4))
    # int() truncates towards zero: int(-0.7 + 0.5) = int(-0.2) = 0 -> peak at column 0, row int(5.7) = 5
    assert maps[1, 5, 0] == 1.0
    np.testing.assert_array_equal(weights, [1, 1])


def test_gaussian_target_weights() -> None:
    coords = np.array([[-8.6, 10], [-7.5, 10], [53.5, 10], [53.4, 10], [20, 20], [20, 20], [20, 20]])
    vis = [1, 1, 1, 1, 0, 0.5, 1]
    maps, weights = render_gaussian_heatmaps(coords, vis, (H, W))
    # x = -8.6: centre int(-8.1) = -8, right edge -8 + 6 + 1 = -1 < 0 -> fully outside -> weight 0
    # x = -7.5: centre int(-7.0) = -7, right edge 0 is not < 0 -> weight stays 1, but nothing lands on the map
    # x = 53.5: centre int(54.0) = 54, left edge 54 - 6 = 48 >= W -> weight 0
    # x = 53.4: centre 53, left edge 47 -> drawn in column 47 with exp(-36/8)
    # v = 0 -> weight 0; v = 0.5 -> weight 0.5 but only weights > 0.5 are drawn; v = 1 -> drawn
    np.testing.assert_array_equal(weights, [0, 1, 0, 1, 0, 0.5, 1])
    assert maps[0].sum() == 0 and maps[1].sum() == 0 and maps[2].sum() == 0
    np.testing.assert_allclose(maps[3, 10, 47], math.exp(-36 / 8), rtol=1e-6)
    assert maps[4].sum() == 0 and maps[5].sum() == 0 and maps[6, 20, 20] == 1.0
    # batch dimensions are kept
    m2, w2 = render_gaussian_heatmaps(np.zeros((3, 17, 2)), np.ones((3, 17)), (H, W))
    assert m2.shape == (3, 17, H, W) and w2.shape == (3, 17)
    with pytest.raises(ValueError):
        render_gaussian_heatmaps(np.zeros((17, 2)), np.ones(16), (H, W))


def test_subpixel_gaussian_peak_decodes_with_the_quarter_rule() -> None:
    # true Gaussian at (20.3, 30.8): argmax (20, 31); right > left -> 20.25, up (y=30) > down -> 30.75
    maps, _ = render_gaussian_heatmaps(np.array([[20.3, 30.8]]), [1], (H, W), subpixel=True)
    coords, scores = decode_heatmaps(maps[None])
    np.testing.assert_array_equal(coords[0, 0], [20.25, 30.75])
    np.testing.assert_allclose(scores[0, 0], math.exp(-(0.3**2 + 0.2**2) / 8), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------------
# Oracle: the COCO annotations go through crop geometry -> heatmaps -> decode -> image and come back
# ---------------------------------------------------------------------------------------------------------


def _coco() -> dict:
    return json.loads((COCO_DIR / "person_keypoints.json").read_text())


# People whose heatmap pixel (scale_w / 48 image px) is small enough that the quarter-pixel decode is
# guaranteed within 1 image px (Euclidean: 0.25 * sqrt(2) * scale_w / 48 <= 1, i.e. scale_w <= 135.8).
STRICT_ONE_PIXEL = {488308, 1724673}


def test_oracle_annotated_keypoints_survive_heatmap_encode_decode() -> None:
    coco = _coco()
    report = []
    strict_seen = set()
    for ann in coco["annotations"]:
        if ann["num_keypoints"] == 0:
            continue
        x, y, w, h = ann["bbox"]
        box = np.array([[x, y, x + w, y + h]], dtype=F32)
        centers, scales = box_to_center_scale(box)
        kp = np.array(ann["keypoints"], dtype=np.float64).reshape(-1, 3)
        vis = kp[:, 2] > 0
        # image -> crop (step 4 affine) -> heatmap (crop / 4); a true Gaussian at the sub-pixel position
        crop_xy = affine_transform_points(kp[:, :2], get_affine_transform(centers[0], scales[0, 0], (192, 256)))
        maps, _ = render_gaussian_heatmaps(crop_xy / 4, vis.astype(F32), (H, W), subpixel=True)
        coords, _ = decode_heatmaps(maps[None])
        decoded = heatmap_to_image(coords, center_scale_to_box(centers, scales), (H, W))[0]
        err = np.abs(decoded.astype(np.float64) - kp[:, :2])[vis]
        hm_px = float(scales[0, 0]) / 48  # image pixels per heatmap pixel
        # every annotated joint falls where the quarter rule applies (2 <= px <= W-2), so its error on each
        # axis is at most a quarter heatmap pixel (plus float32 rounding)
        assert (err <= 0.25 * hm_px + 1e-3).all(), (ann["id"], err.max(), hm_px)
        dist = np.hypot(err[:, 0], err[:, 1])
        report.append((ann["id"], round(hm_px, 2), round(float(dist.max()), 3)))
        if 0.25 * math.sqrt(2) * hm_px <= 1:
            strict_seen.add(ann["id"])
            assert dist.max() <= 1.0, (ann["id"], dist.max())
    assert strict_seen == STRICT_ONE_PIXEL, report
    assert len(report) == 12


def test_oracle_real_crops() -> None:
    coco = _coco()
    files = {im["id"]: im["file_name"] for im in coco["images"]}
    for image_id, name in files.items():
        anns = [a for a in coco["annotations"] if a["image_id"] == image_id and a["num_keypoints"] > 0]
        image = cv2.cvtColor(cv2.imread(str(COCO_DIR / name)), cv2.COLOR_BGR2RGB)
        xywh = np.array([a["bbox"] for a in anns], dtype=np.float64)
        boxes = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1).astype(F32)
        centers, scales = box_to_center_scale(boxes)
        crops, cropped = crop_people(image, centers, scales)
        assert crops.shape == (len(anns), 3, 256, 192) and np.isfinite(crops).all()
        # normalised range: [0 - 0.480, 1 - 0.406]
        assert crops.min() >= -0.480 - 1e-6 and crops.max() <= 1 - 0.406 + 1e-6
        # the person box lies fully inside the crop region, in image and in crop coordinates
        assert (cropped[:, :2] <= boxes[:, :2]).all() and (cropped[:, 2:] >= boxes[:, 2:]).all()
        for i in range(len(anns)):
            m = get_affine_transform(centers[i], scales[i, 0], (192, 256))
            corners = affine_transform_points(boxes[i].reshape(2, 2), m)
            assert (corners >= -1e-3).all()
            assert (corners[:, 0] <= 192 + 1e-3).all() and (corners[:, 1] <= 256 + 1e-3).all()
