"""Box -> centre/scale, affine crop, normalisation and the inverse mapping (AlphaPose inference steps 3-7, 10).

Expected numbers are derived by hand in the comments; the facts they follow are in
../shared/reference/alphapose-facts.md, section 2.
"""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
import torch

from alphapose_kit.data.transforms import (
    PIXEL_MEANS_RGB,
    affine_transform_points,
    box_to_center_scale,
    center_scale_to_box,
    crop_boxes,
    crop_people,
    get_affine_transform,
    heatmap_to_image,
    normalize_crop,
    warp_affine_linear,
)
from tests.paths import COCO

COCO_DIR = COCO
F32 = np.float32


# ---------------------------------------------------------------------------------------------------------
# Step 3: box -> centre / scale
# ---------------------------------------------------------------------------------------------------------


def test_box_to_center_scale_wide_tall_and_exact_boxes() -> None:
    boxes = np.array(
        [
            [10, 20, 210, 120],  # wide: w = 200, h = 100, a*h = 75 < w -> h = 200 / 0.75 = 266.67
            [0, 0, 60, 160],  # tall: w = 60, h = 160, a*h = 120 > w -> w = 120
            [0, 0, 75, 100],  # exactly 3:4: w = a*h -> unchanged
        ],
        dtype=F32,
    )
    centers, scales = box_to_center_scale(boxes)
    assert centers.dtype == np.float32 and scales.dtype == np.float32
    # c = (x1 + w/2, y1 + h/2)
    np.testing.assert_array_equal(centers, [[110, 70], [30, 80], [37.5, 50]])
    # wide: (200, 200/0.75) * 1.25 = (250, 333.33...), the division and product in float32
    assert scales[0, 0] == 250.0
    assert scales[0, 1] == F32(200) / F32(0.75) * F32(1.25)
    # tall: (160 * 0.75, 160) * 1.25 = (150, 200); exact: (75, 100) * 1.25 = (93.75, 125)
    np.testing.assert_array_equal(scales[1:], [[150, 200], [93.75, 125]])


def test_box_to_center_scale_skips_the_enlargement_when_center_x_is_minus_one() -> None:
    # QUIRK: c_x = -11 + 20/2 = -1 exactly -> no x1.25. w = 20 < 0.75 * 40 = 30 -> w = 30: scale (30, 40)
    c, s = box_to_center_scale([-11, 0, 9, 40])
    assert c.shape == (2,) and c[0] == -1.0
    np.testing.assert_array_equal(s, [30, 40])
    # c_x = -11.5 + 20.5/2 = -1.25 is not -1: w = 0.75 * 40 = 30 -> (30, 40) * 1.25 = (37.5, 50)
    _, s = box_to_center_scale([-11.5, 0, 9, 40])
    np.testing.assert_array_equal(s, [37.5, 50])


def test_box_to_center_scale_is_vectorised_and_rejects_bad_shapes() -> None:
    rng = np.random.default_rng(0)
    xy = rng.uniform(-50, 600, (50, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(1, 400, (50, 2))], axis=1).astype(F32)
    centers, scales = box_to_center_scale(boxes)
    for i in range(len(boxes)):
        c, s = box_to_center_scale(boxes[i])
        np.testing.assert_array_equal(c, centers[i])
        np.testing.assert_array_equal(s, scales[i])
    with pytest.raises(ValueError, match=r"\(N, 4\)"):
        box_to_center_scale(np.zeros((3, 5)))


def test_center_scale_to_box() -> None:
    # c = (196, 328), scale = (240, 320): (196 - 120, 328 - 160, 76 + 240, 168 + 320)
    box = center_scale_to_box([[196, 328]], [[240, 320]])
    np.testing.assert_array_equal(box, [[76, 168, 316, 488]])
    assert box.dtype == np.float32


def test_center_scale_to_box_adds_in_float64_like_numpy_1() -> None:
    # AlphaPose computes x_max = x_min + w with NumPy 1.x scalars, i.e. in float64, then rounds to float32.
    # c = f32(28.68) = 28.68000030517578, w = f32(18.1) = 18.100000381469727:
    # x_min = c - w/2 = 19.630000209808350 (float64) -> float32 19.630001068115234
    # x_max = x_min + w = 37.730000591278076 (float64) -> float32 37.72999954223633 = f32(37.73)
    # whereas float32 throughout would give f32(19.630001068 + 18.100000381) = 37.730003356933594.
    box = center_scale_to_box([[F32(28.68), 0]], [[F32(18.1), 10]])
    assert box[0, 2] == F32(37.73)
    assert float(box[0, 2]) == 37.72999954223633


# ---------------------------------------------------------------------------------------------------------
# Step 4: affine transform
# ---------------------------------------------------------------------------------------------------------


def test_affine_matrix_for_zero_rotation() -> None:
    # c = (196, 328), scale_w = 240: s = 192 / 240 = 0.8; M = [[s, 0, 96 - s*196], [0, s, 128 - s*328]]
    # 96 - 0.8*196 = 96 - 156.8 = -60.8; 128 - 0.8*328 = 128 - 262.4 = -134.4
    m = get_affine_transform(F32([196, 328]), 240, (192, 256))
    np.testing.assert_allclose(m, [[0.8, 0, -60.8], [0, 0.8, -134.4]], rtol=0, atol=1e-9)
    # Inverse: 1/s = 1.25; x = 1.25*x' + (196 - 1.25*96 = 76), y = 1.25*y' + (328 - 1.25*128 = 168)
    mi = get_affine_transform(np.array([196.0, 328.0]), 240.0, (192, 256), inverse=True)
    np.testing.assert_allclose(mi, [[1.25, 0, 76], [0, 1.25, 168]], rtol=0, atol=1e-9)
    both = mi @ np.vstack([m, [0, 0, 1]])
    np.testing.assert_allclose(both, [[1, 0, 0], [0, 1, 0]], atol=1e-9)


def test_affine_matrix_is_opencvs_solution_for_the_three_point_rule() -> None:
    # Facts step 4: p0 = c -> (96, 128); p1 = c + (0, -w/2) -> (96, 128 - 96 = 32);
    # third point p2 = p1 + (-(p0 - p1).y, (p0 - p1).x) = p1 + (-w/2, 0): c + (-w/2, -w/2) -> (0, 32).
    c = F32([196.3, 328.7])
    w = F32(233.1)
    half = w / 2
    src = np.array([c, c + F32([0, -half]), c + F32([-half, -half])], dtype=F32)
    dst = np.array([[96, 128], [96, 32], [0, 32]], dtype=F32)
    np.testing.assert_array_equal(get_affine_transform(c, w, (192, 256)), cv2.getAffineTransform(src, dst))


def test_affine_rotation_turns_the_up_direction() -> None:
    # r = 90 deg: the source "up" vector is (sin r, -cos r) * w/2 = (w/2, 0), which lands at (96, 32).
    c = np.array([100.0, 50.0])
    m = get_affine_transform(c, 80.0, (192, 256), rot=90)
    np.testing.assert_allclose(affine_transform_points([[140.0, 50.0], [100.0, 50.0]], m), [[96, 32], [96, 128]])


# ---------------------------------------------------------------------------------------------------------
# Step 5: the warp (OpenCV 4.x fixed-point bilinear)
# ---------------------------------------------------------------------------------------------------------


def _ramp_image() -> np.ndarray:
    # R = x, G = y, B = 255 - x on a 256 x 256 image
    x = np.arange(256)
    img = np.empty((256, 256, 3), dtype=np.uint8)
    img[..., 0] = x[None, :]
    img[..., 1] = x[:, None]
    img[..., 2] = 255 - x[None, :]
    return img


def test_crop_of_a_ramp_lands_where_the_formula_says() -> None:
    # c = (100, 120), scale_w = 96: s = 192/96 = 2, so crop pixel (u, v) samples image
    # x = (u - 96)/2 + 100 = 52 + u/2 and y = (v - 128)/2 + 120 = 56 + v/2 (always inside the 256 x 256 image).
    # The ramps are linear, so bilinear interpolation is exact; at half pixels OpenCV's fixed point gives
    # ((v0*16 + (v0+1)*16)*32 + 2^14) >> 15 = v0 + 1, i.e. round half up: floor(value + 0.5).
    out = warp_affine_linear(_ramp_image(), get_affine_transform(F32([100, 120]), 96, (192, 256)), (192, 256))
    u = np.arange(192)[None, :]
    v = np.arange(256)[:, None]
    np.testing.assert_array_equal(out[..., 0], np.broadcast_to(np.floor(52 + u / 2 + 0.5), (256, 192)))
    np.testing.assert_array_equal(out[..., 1], np.broadcast_to(np.floor(56 + v / 2 + 0.5), (256, 192)))
    np.testing.assert_array_equal(out[..., 2], np.broadcast_to(np.floor(255 - (52 + u / 2) + 0.5), (256, 192)))


def test_crop_border_is_zero_and_blends_at_the_edge() -> None:
    # Constant 200 image of 100 x 100; c = (0, 50), scale_w = 96, s = 2: x = (u - 96)/2.
    # u <= 93: x <= -1.5, both taps outside -> 0; u = 94: x = -1 exactly (weight on the outside tap) -> 0;
    # u = 95: x = -0.5 -> (0*16 + 200*16)*32 / 2^15 = 100; u >= 96: x >= 0 -> 200 (x stays < 99 up to u = 191).
    img = np.full((100, 100, 3), 200, dtype=np.uint8)
    out = warp_affine_linear(img, get_affine_transform(F32([0, 50]), 96, (192, 256)), (192, 256))
    row = out[128, :, 0].astype(int)  # y = 50, well inside
    assert (row[:95] == 0).all() and row[95] == 100 and (row[96:] == 200).all()
    # x = 27 at u = 150; y = (v - 128)/2 + 50: v <= 26 -> y <= -1 -> 0; v = 27 -> y = -0.5 -> 100;
    # v = 28..226 -> y = 0..99 (last row) -> 200; v = 227 -> y = 99.5 -> 100; v >= 228 -> y >= 100 -> 0.
    col = out[:, 150, 0].astype(int)
    assert (col[:27] == 0).all() and col[27] == 100 and (col[28:227] == 200).all()
    assert col[227] == 100 and (col[228:] == 0).all()


@pytest.mark.skipif(int(cv2.__version__.split(".")[0]) >= 5, reason="OpenCV 5 changed cv2.warpAffine")
def test_warp_equals_opencv_4() -> None:
    rng = np.random.default_rng(1)
    for k in range(40):
        img = rng.integers(0, 256, (int(rng.integers(1, 200)), int(rng.integers(1, 200)), 3), dtype=np.uint8)
        c = rng.uniform(-50, 250, 2).astype(F32)
        m = get_affine_transform(c, float(rng.uniform(1, 400)), (192, 256), rot=float(k % 3 * 30))
        ref = cv2.warpAffine(img, m, (192, 256), flags=cv2.INTER_LINEAR)
        np.testing.assert_array_equal(warp_affine_linear(img, m, (192, 256)), ref)


# SHA-256 prefixes of cv2.warpAffine(RGB image, M, (192, 256), INTER_LINEAR) for each annotated person's box
# (box_to_center_scale of the COCO bbox), computed with opencv-python-headless 4.8.1, 4.10.0 and 4.12.0
# (all identical). OpenCV 5.0 gives different crops.
OPENCV4_CROP_SHA256 = {
    442619: "17c11ea10d8f0f85",
    198196: "918dd911f6800fac",
    230195: "57a796467a655f9e",
    460541: "2a0237db051e2acc",
    488308: "7829d538aa98427e",
    1717641: "0b117752aef16842",
    1724673: "e1653a9a2581ea8e",
    437295: "70e6265cbc5f676f",
    467657: "117cb38882b69777",
    531914: "94eddcfa2ef28ff3",
    533949: "32f728211e55f1ff",
    543117: "4fcc83a6cf63781a",
}
# SHA-256 prefixes of cv2.imread (BGR) of the four images, with the same OpenCV versions (and 5.0, and PIL).
DECODED_SHA256 = {
    785: "5b9a24ebeead9abd",
    40083: "68a9035373d0ab8b",
    196141: "3fe3515c3863984b",
    197388: "8a59c4af83ef7003",
}


def _coco() -> dict:
    path = COCO_DIR / "person_keypoints.json"
    if not path.exists():
        pytest.skip(f"shared test data not found at {path}")
    return json.loads(path.read_text())


def test_real_crops_match_opencv_4_digests() -> None:
    coco = _coco()
    files = {im["id"]: im["file_name"] for im in coco["images"]}
    images = {}
    for image_id, name in files.items():
        bgr = cv2.imread(str(COCO_DIR / name))
        if hashlib.sha256(bgr.tobytes()).hexdigest()[:16] != DECODED_SHA256[image_id]:
            pytest.skip("this OpenCV decodes the JPEG files differently; the crop digests do not apply")
        images[image_id] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    for ann in coco["annotations"]:
        if ann["num_keypoints"] == 0:
            continue
        x, y, w, h = ann["bbox"]
        c, s = box_to_center_scale(np.array([x, y, x + w, y + h], dtype=F32))
        warped = warp_affine_linear(images[ann["image_id"]], get_affine_transform(c, s[0], (192, 256)), (192, 256))
        assert hashlib.sha256(warped.tobytes()).hexdigest()[:16] == OPENCV4_CROP_SHA256[ann["id"]], ann["id"]


def test_warp_handles_grey_images_and_rejects_non_uint8() -> None:
    img = _ramp_image()
    m = get_affine_transform(F32([100, 120]), 96, (192, 256))
    np.testing.assert_array_equal(
        warp_affine_linear(img[..., 1], m, (192, 256)), warp_affine_linear(img, m, (192, 256))[..., 1]
    )
    with pytest.raises(ValueError, match="uint8"):
        warp_affine_linear(img.astype(np.float32), m, (192, 256))


# ---------------------------------------------------------------------------------------------------------
# Step 6: normalisation
# ---------------------------------------------------------------------------------------------------------


def test_normalisation_divides_by_255_and_subtracts_rgb_means() -> None:
    # RGB = (255, 0, 51): R -> 255/255 - 0.406 = 0.594, G -> 0 - 0.457, B -> 51/255 - 0.48 = 0.2 - 0.48
    crop = np.empty((4, 3, 3), dtype=np.uint8)
    crop[:] = (255, 0, 51)
    out = normalize_crop(crop)
    assert out.shape == (3, 4, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], F32(1) + F32(-0.406))
    np.testing.assert_array_equal(out[1], F32(0) + F32(-0.457))
    np.testing.assert_array_equal(out[2], F32(51) / F32(255) + F32(-0.480))
    np.testing.assert_allclose(out[:, 0, 0], [0.594, -0.457, -0.28], atol=1e-6)


def test_normalisation_skips_the_division_when_max_is_at_most_one() -> None:
    # QUIRK: a crop of only 0s and 1s is not divided by 255: a 1 becomes 1 - 0.406, not 1/255 - 0.406.
    crop = np.zeros((2, 2, 3), dtype=np.uint8)
    crop[0, 0] = 1
    out = normalize_crop(crop)
    np.testing.assert_allclose(out[:, 0, 0], [1 - 0.406, 1 - 0.457, 1 - 0.480], atol=1e-6)
    np.testing.assert_allclose(out[:, 1, 1], [-0.406, -0.457, -0.480], atol=1e-6)
    assert PIXEL_MEANS_RGB == (0.406, 0.457, 0.480)


def test_normalisation_is_bit_identical_to_the_torch_sequence() -> None:
    # AlphaPose: torch.from_numpy(CHW).float(); if max > 1: /= 255; then img[c].add_(-mean) per channel.
    rng = np.random.default_rng(2)
    for crop in (rng.integers(0, 256, (256, 192, 3), dtype=np.uint8), rng.integers(0, 2, (8, 6, 3), dtype=np.uint8)):
        t = torch.from_numpy(np.transpose(crop, (2, 0, 1)).copy()).float()
        if t.max() > 1:
            t /= 255
        for ch, mean in enumerate((0.406, 0.457, 0.480)):
            t[ch].add_(-mean)
        np.testing.assert_array_equal(normalize_crop(crop), t.numpy())


# ---------------------------------------------------------------------------------------------------------
# crop_people
# ---------------------------------------------------------------------------------------------------------


def test_crop_people_channel_order_shapes_and_boxes() -> None:
    img = np.empty((300, 400, 3), dtype=np.uint8)
    img[:] = (255, 0, 51)  # R, G, B
    boxes = np.array([[50, 50, 150, 250], [200, 10, 260, 60]], dtype=F32)
    centers, scales = box_to_center_scale(boxes)
    crops, cropped = crop_people(img, centers, scales)
    assert crops.shape == (2, 3, 256, 192) and crops.dtype == np.float32
    # person 0: c = (100, 150), scale = (150, 200) * 1.25 = (187.5, 250): the crop stays inside the image
    np.testing.assert_array_equal(crops[0, 0], F32(1) + F32(-0.406))
    np.testing.assert_array_equal(crops[0, 2], F32(51) / F32(255) + F32(-0.480))
    np.testing.assert_array_equal(cropped, center_scale_to_box(centers, scales))
    np.testing.assert_array_equal(cropped[0], [100 - 93.75, 150 - 125, 100 + 93.75, 150 + 125])
    c2, b2 = crop_boxes(img, boxes)
    np.testing.assert_array_equal(c2, crops)
    np.testing.assert_array_equal(b2, cropped)


def test_crop_boxes_keeps_float64_detfile_precision() -> None:
    # (10.1, 20.3, 110.7, 220.9): in float64 the centre y is 20.3 + 200.6 / 2 = 120.6 and the scale 200.6 * 1.25 =
    # 250.75 (rounded to float32 after), in float32 the same sums give 120.59999 and 250.74998; crop_boxes, the
    # crop step of inference, evaluation and calibration, keeps the array's precision as AlphaPose does
    img = np.zeros((240, 320, 3), np.uint8)
    box = np.array([[10.1, 20.3, 110.7, 220.9]])
    _, b64 = crop_boxes(img, box)
    _, b32 = crop_boxes(img, box.astype(F32))
    assert b64[0, 3] - b64[0, 1] == F32(250.75) and b32[0, 3] - b32[0, 1] != F32(250.75)
    np.testing.assert_array_equal(b32, crop_boxes(img, box.tolist())[1])  # a list is float32


def test_crop_people_with_no_people_and_bad_images() -> None:
    crops, boxes = crop_people(np.zeros((10, 10, 3), np.uint8), np.zeros((0, 2)), np.zeros((0, 2)))
    assert crops.shape == (0, 3, 256, 192) and boxes.shape == (0, 4)
    with pytest.raises(ValueError, match="H x W x 3"):
        crop_people(np.zeros((10, 10), np.uint8), [[5, 5]], [[4, 4]])


# ---------------------------------------------------------------------------------------------------------
# Step 10: heatmap pixels -> image pixels
# ---------------------------------------------------------------------------------------------------------


def test_heatmap_to_image_hand_numbers() -> None:
    # cropped box (100, 200, 292, 456): w = 192, h = 256, c = (196, 328); one heatmap pixel = 192/48 = 4 px.
    # (24, 32) -> c = (196, 328); (0, 0) -> (196 - 24*4, 328 - 32*4) = (100, 200);
    # (47, 63) -> (196 + 23*4, 328 + 31*4) = (288, 452); (10.25, 5.75) -> (196 - 55, 328 - 105) = (141, 223)
    coords = F32([[[24, 32], [0, 0], [47, 63], [10.25, 5.75]]])
    out = heatmap_to_image(coords, F32([[100, 200, 292, 456]]), (64, 48))
    np.testing.assert_array_equal(out, [[[196, 328], [100, 200], [288, 452], [141, 223]]])
    assert out.dtype == np.float32


def test_heatmap_to_image_scales_both_axes_by_the_box_width() -> None:
    # box (0, 0, 96, 64): w = 96, h = 64, c = (48, 32); pixel size w/48 = 2 on BOTH axes (only scale_w is used):
    # (0, 0) -> (48 - 24*2, 32 - 32*2) = (0, -32), not (0, 0).
    out = heatmap_to_image(F32([[[0, 0]]]), F32([[0, 0, 96, 64]]), (64, 48))
    np.testing.assert_array_equal(out, [[[0, -32]]])


def test_heatmap_to_image_equals_the_per_joint_inverse_affine() -> None:
    # Literal step 10: per person, c and w from the box as Python floats, inverse affine for (48, 64),
    # np.dot(M, (x, y, 1)) per joint, stored as float32.
    rng = np.random.default_rng(3)
    xy = rng.uniform(-100, 800, (60, 2))
    boxes = np.concatenate([xy, xy + rng.uniform(5, 500, (60, 2))], axis=1).astype(F32)
    coords = (np.round(rng.uniform(-2, 50, (60, 17, 2)) * 4) / 4).astype(F32)
    out = heatmap_to_image(coords, boxes, (64, 48))
    for i, (x1, y1, x2, y2) in enumerate(boxes.tolist()):
        w, h = x2 - x1, y2 - y1
        m = get_affine_transform(np.array([x1 + w * 0.5, y1 + h * 0.5]), w, (48, 64), inverse=True)
        for k in range(17):
            ref = np.dot(m, np.array([coords[i, k, 0], coords[i, k, 1], 1.0]))
            np.testing.assert_array_equal(out[i, k], ref.astype(F32))


def test_crop_then_heatmap_round_trip() -> None:
    boxes = F32([[37.2, 80.9, 251.3, 402.6], [300, 20, 330, 200]])
    centers, scales = box_to_center_scale(boxes)
    cropped = center_scale_to_box(centers, scales)
    pts = np.array([[60.5, 100.25], [200.0, 390.0]])
    for i in range(2):
        crop_xy = affine_transform_points(pts, get_affine_transform(centers[i], scales[i, 0], (192, 256)))
        back = heatmap_to_image((crop_xy / 4)[None].astype(F32), cropped[i : i + 1], (64, 48))[0]
        np.testing.assert_allclose(back, pts, atol=2e-3)


def test_heatmap_to_image_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match=r"\(N, K, 2\)"):
        heatmap_to_image(np.zeros((2, 17, 2)), np.zeros((3, 4)))
