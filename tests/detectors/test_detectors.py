"""Person-detector layer: letterbox, YOLO post-processing (AlphaPose's rules), detection files, load_detector."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
import torchvision
from torch import nn

from alphapose_kit.detectors import Detections, DetFileDetector, YOLODetector, load_detector
from alphapose_kit.detectors.letterbox import letterbox, letterbox_batch, unletterbox_boxes
from alphapose_kit.detectors.yolo import inclusive_threshold
from alphapose_kit.errors import AkitError
from tests.paths import COCO

needs_coco = pytest.mark.skipif(not COCO.is_dir(), reason=f"shared test data not found at {COCO}")


class FixedYOLO(nn.Module):
    """Returns the same hand-made predictions (anchors, 5 + C) for every image of the batch."""

    def __init__(self, rows: list[list[float]], num_classes: int = 3) -> None:
        super().__init__()
        table = torch.zeros(len(rows), 5 + num_classes)
        for i, row in enumerate(rows):
            table[i, : len(row)] = torch.tensor(row)
        self.register_buffer("table", table)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.clone())
        return self.table.expand(x.shape[0], -1, -1).clone()


def person(cx, cy, w, h, obj, cls=(0.9, 0.1, 0.1)):
    return [cx, cy, w, h, obj, *cls]


def xyxy_row(x1, y1, x2, y2, obj, cls=(0.9, 0.1, 0.1)):
    return person((x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1, obj, cls)


# 1. letterbox ---------------------------------------------------------------------------------------------------
def test_letterbox_hand_derived_100x50_into_64():
    image = np.zeros((50, 100, 3), np.uint8)
    image[:, :50] = (10, 20, 200)  # BGR: left half reddish
    image[:, 50:] = (200, 30, 40)  # right half bluish
    # f = min(64/100, 64/50) = 0.64 -> new (64, 32); paste at x (64-64)//2 = 0, y (64-32)//2 = 16
    box = letterbox(image, 64)
    assert box.shape == (64, 64, 3) and box.dtype == np.uint8
    assert (box[:16] == 128).all() and (box[48:] == 128).all()  # fill rows above and below
    np.testing.assert_array_equal(box[16:48], cv2.resize(image, (64, 32), interpolation=cv2.INTER_CUBIC))
    np.testing.assert_array_equal(box[20:44, 2:28], np.broadcast_to(np.uint8([10, 20, 200]), (24, 26, 3)))
    np.testing.assert_array_equal(box[20:44, 36:62], np.broadcast_to(np.uint8([200, 30, 40]), (24, 26, 3)))

    x = letterbox_batch([image], 64)
    assert x.shape == (1, 3, 64, 64) and x.dtype == torch.float32
    # RGB order, divided by 255: channel 0 = R
    assert x[0, :, 30, 10].tolist() == pytest.approx([200 / 255, 20 / 255, 10 / 255])
    assert x[0, :, 30, 50].tolist() == pytest.approx([40 / 255, 30 / 255, 200 / 255])
    assert x[0, :, 5, 30].tolist() == pytest.approx([128 / 255] * 3)


def test_letterbox_odd_padding_and_tall_image():
    image = np.full((90, 40, 3), 7, np.uint8)  # tall: f = min(64/40, 64/90) = 0.7111 -> new (28, 64)
    box = letterbox(image, 64)
    # int(40 * 0.7111) = 28, paste x = (64 - 28)//2 = 18
    assert (box[:, :18] == 128).all() and (box[:, 46:] == 128).all() and (box[:, 18:46] == 7).all()


# 2. back-mapping ------------------------------------------------------------------------------------------------
def test_boxes_map_back_with_float_offsets_and_clamp():
    # image 100 x 45 into 64: f = 0.64, new (64, 28), integer paste y = 18, FLOAT offset y = (64 - 28.8)/2 = 17.6
    f, off_y = 0.64, 17.6
    rows = [
        xyxy_row(10 * f, off_y + 5 * f, 60 * f, off_y + 40 * f, 0.9),  # -> (10, 5, 60, 40)
        xyxy_row(-3, off_y - 8, 70, off_y + 50 * f, 0.8),  # spills out: clamped to x >= 0, y in [0, 45]
    ]
    detector = YOLODetector(FixedYOLO(rows), input_size=64, nms=0.99)
    (dets,) = detector([np.zeros((45, 100, 3), np.uint8)])
    assert isinstance(dets, Detections) and dets.boxes.dtype == np.float32 and dets.scores.dtype == np.float32
    np.testing.assert_allclose(dets.boxes[0], [10, 5, 60, 40], atol=1e-4)
    np.testing.assert_allclose(dets.boxes[1], [0, 0, 100, 45], atol=1e-4)  # x2 70/f = 109.4 -> 100, y2 50 -> 45
    np.testing.assert_allclose(dets.scores, [0.9, 0.8])
    # the helper on its own, x clamped to the width
    out = unletterbox_boxes(np.float32([[60, off_y, 70, off_y + 10]]), 100, 45, 64)
    np.testing.assert_allclose(out, [[60 / f, 0, 100, 10 / f]], atol=1e-4)


# 3. filtering and NMS -------------------------------------------------------------------------------------------
def test_filtering_strict_conf_person_argmax_objectness_score():
    rows = [
        person(10, 10, 8, 8, 0.10),  # objectness == conf: dropped (strict >)
        person(30, 10, 8, 8, 0.11, (0.2, 0.1, 0.1)),  # kept, score is objectness 0.11, not 0.11 * 0.2
        person(50, 10, 8, 8, 0.95, (0.5, 0.6, 0.1)),  # argmax is class 1: not a person, dropped
        person(10, 40, 8, 8, 0.50, (0.3, 0.3, 0.1)),  # tie 0/1 -> first max -> person, kept
        person(40, 40, 8, 8, 0.70),  # kept
    ]
    detector = YOLODetector(FixedYOLO(rows), input_size=64)
    (dets,) = detector([np.zeros((64, 64, 3), np.uint8)])
    np.testing.assert_allclose(dets.scores, [0.7, 0.5, 0.11])  # sorted by objectness
    np.testing.assert_allclose(dets.boxes[0], [36, 36, 44, 44])
    assert dets.labels.tolist() == [0, 0, 0] and dets.ids is None

    # Ultralytics' convention: score = objectness x class score, tested against conf too
    v5 = YOLODetector(FixedYOLO(rows), input_size=64, conf=0.25, score="objectness*class", legacy_box_plus1=False)
    (dets,) = v5([np.zeros((64, 64, 3), np.uint8)])
    np.testing.assert_allclose(dets.scores, [0.7 * 0.9], rtol=1e-6)  # 0.5 * 0.3 = 0.15 < 0.25

    # other classes on request
    multi = YOLODetector(FixedYOLO(rows), input_size=64, classes=(0, 1))
    (dets,) = multi([np.zeros((64, 64, 3), np.uint8)])
    assert dets.labels.tolist() == [1, 0, 0, 0] and dets.scores[0] == pytest.approx(0.95)


def _pair(a, b):
    return [xyxy_row(*a, 0.9), xyxy_row(*b, 0.8)]


def _kept(rows, nms, legacy):
    detector = YOLODetector(FixedYOLO(rows), input_size=64, nms=nms, legacy_box_plus1=legacy)
    return len(detector([np.zeros((64, 64, 3), np.uint8)])[0])


def test_nms_legacy_plus1_decides_near_threshold():
    a = (0, 0, 19, 19)
    # b inside a, so intersection = area(b).
    # +1:    area a = 20*20 = 400, b (0,0,19,11.2) = 20*12.2 = 244 -> IoU 0.61 >= 0.6: suppressed
    # plain: area a = 19*19 = 361, b = 19*11.2 = 212.8 -> IoU 0.5895 < 0.6: kept
    b = (0, 0, 19, 11.2)
    assert (20 * 12.2) / 400 > 0.6 > (19 * 11.2) / 361
    assert _kept(_pair(a, b), 0.6, legacy=True) == 1
    assert _kept(_pair(a, b), 0.6, legacy=False) == 2
    # just below under +1 too: b (0,0,19,10.8): +1 IoU 20*11.8/400 = 0.59 -> kept
    c = (0, 0, 19, 10.8)
    assert (20 * 11.8) / 400 < 0.6
    assert _kept(_pair(a, c), 0.6, legacy=True) == 2
    # exactly at the threshold (0.5 is exact in float32): AlphaPose suppresses IoU >= thr, torchvision only > thr
    # +1: a (0,0,9,9) area 100, d (0,0,9,4) area 10*5 = 50 -> IoU 0.5
    d = (0, 0, 9, 4)
    assert _kept(_pair((0, 0, 9, 9), d), 0.5, legacy=True) == 1
    assert _kept(_pair((0, 0, 9, 9), d), 0.5, legacy=False) == 2
    # AlphaPose's default 0.6: +1 IoU 60/100 (d = (0,0,9,5)) is suppressed
    assert _kept(_pair((0, 0, 9, 9), (0, 0, 9, 5)), 0.6, legacy=True) == 1


def test_inclusive_threshold_matches_float32_iou_ge_double_thr():
    for thr in (0.6, 0.55, 0.6 - 0.05, 0.45, 0.5, 0.0, 1.0):
        t = inclusive_threshold(thr)
        below, at = np.float32(t), np.nextafter(np.float32(t), np.float32(2))
        assert not float(below) >= thr and float(at) >= thr  # first float32 that passes ">= thr" is just above t


def test_no_detections_and_max_det():
    detector = YOLODetector(FixedYOLO([person(10, 10, 8, 8, 0.05)]), input_size=64)
    results = detector([np.zeros((30, 40, 3), np.uint8), np.zeros((64, 64, 3), np.uint8)])
    for dets in results:
        assert dets.boxes.shape == (0, 4) and dets.scores.shape == (0,) and len(dets) == 0
        assert dets.boxes.dtype == np.float32 and dets.scores.dtype == np.float32
    assert detector([]) == []
    rows = [person(8 + 12 * i, 10, 8, 8, 0.9 - 0.1 * i) for i in range(4)]
    (dets,) = YOLODetector(FixedYOLO(rows), input_size=64, max_det=2)([np.zeros((64, 64, 3), np.uint8)])
    np.testing.assert_allclose(dets.scores, [0.9, 0.8])


def test_bad_settings_and_frames_fail_in_one_line():
    model = FixedYOLO([person(10, 10, 8, 8, 0.5)])
    for kwargs in ({"input_size": 100}, {"conf": 1.5}, {"batch_size": 0}, {"score": "class"}, {"half": True}):
        with pytest.raises(AkitError):
            YOLODetector(model, **kwargs)
    detector = YOLODetector(model, input_size=64)
    with pytest.raises(AkitError, match="uint8"):
        detector([np.zeros((10, 10, 3), np.float32)])
    with pytest.raises(AkitError, match="outside"):
        YOLODetector(model, input_size=64, classes=(5,))([np.zeros((10, 10, 3), np.uint8)])
    gray = detector([np.zeros((64, 64), np.uint8)])  # grey frames are accepted
    assert len(gray[0]) == 1


# 4. batching ----------------------------------------------------------------------------------------------------
class PixelDrivenYOLO(nn.Module):
    """Predictions that depend on each image's centre pixel (R, G), so every frame gets its own boxes."""

    def __init__(self, anchors: int = 60) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(0)
        self.register_buffer("base", torch.rand(anchors, 8, generator=g))

    def forward(self, x: torch.Tensor):
        n, s = x.shape[0], x.shape[-1]
        r = x[:, 0, s // 2, s // 2].view(n, 1)
        gr = x[:, 1, s // 2, s // 2].view(n, 1)
        base = self.base.unsqueeze(0).expand(n, -1, -1)
        cx = base[..., 0] * s * 0.6 + r * s * 0.3
        cy = base[..., 1] * s * 0.6 + gr * s * 0.3
        wh = base[..., 2:4] * s * 0.4 + 4
        obj = (base[..., 4] + r) % 1.0
        classes = base[..., 5:8]
        out = torch.cat([cx.unsqueeze(-1), cy.unsqueeze(-1), wh, obj.unsqueeze(-1), classes], -1)
        return out, "extra"  # YOLOv5 style: the prediction tensor first


def test_results_do_not_depend_on_batch_size():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (h, w, 3), dtype=np.uint8) for h, w in ((48, 64), (100, 30), (64, 64), (20, 90))]
    runs = [YOLODetector(PixelDrivenYOLO(), input_size=64, batch_size=b)(frames) for b in (1, 3)]
    assert sum(len(d) for d in runs[0]) > 8
    for one, three in zip(*runs, strict=True):
        np.testing.assert_array_equal(one.boxes, three.boxes)
        np.testing.assert_array_equal(one.scores, three.scores)


def test_legacy_batch_renms_quirk_is_opt_in():
    # 60 cells of two boxes, b inside a: +1 IoU = 20*11.45 / (20*20) = 0.5725, kept at NMS 0.6, not at 0.55.
    # Two frames in one batch keep 240 > 100 boxes, so the quirk redoes their NMS at 0.6 - 0.05.
    rows = []
    for i in range(60):
        x0 = (i % 10) * 60.0
        y0 = (i // 10) * 60.0
        rows.append(xyxy_row(x0, y0, x0 + 19, y0 + 19, 0.9))
        rows.append(xyxy_row(x0, y0, x0 + 19, y0 + 10.45, 0.8))
    frames = [np.zeros((640, 640, 3), np.uint8)] * 2
    plain = YOLODetector(FixedYOLO(rows), input_size=640, batch_size=2)(frames)
    assert [len(d) for d in plain] == [120, 120]
    quirk = YOLODetector(FixedYOLO(rows), input_size=640, batch_size=2, legacy_batch_renms=True)(frames)
    assert [len(d) for d in quirk] == [60, 60]
    # one frame alone: 120 boxes, > 100 as well; with batch_size 5 it is padded with 4 copies of itself
    # 100 boxes in a frame alone: not > 100 with batch_size 1; with batch_size 5 the batch is counted as padded
    # with 4 copies of its first frame (500 boxes), as AlphaPose pads it, so the NMS is redone
    alone = YOLODetector(FixedYOLO(rows[:100]), input_size=640, batch_size=1, legacy_batch_renms=True)
    assert len(alone(frames[:1])[0]) == 100
    padded = YOLODetector(FixedYOLO(rows[:100]), input_size=640, batch_size=5, legacy_batch_renms=True)
    assert len(padded(frames[:1])[0]) == 50


# 5. detection files ---------------------------------------------------------------------------------------------
@needs_coco
def test_detfile_on_coco_person_detections():
    det = DetFileDetector(COCO / "person_detections.json")
    assert det.image_ids() == [785, 197388, 40083, 196141]  # first-appearance order
    counts = {
        "000000000785.jpg": 22,
        "000000040083.jpg": 26,
        "000000196141.jpg": 33,
        "000000197388.jpg": 37,
    }
    for name, count in counts.items():
        dets = det.lookup(name)
        # file boxes stay float64, as AlphaPose's loader keeps them (its crops are computed from them in float64)
        assert len(dets) == count and dets.boxes.shape == (count, 4) and dets.boxes.dtype == np.float64
        assert len(det.lookup(COCO / name)) == count  # a full path finds it too
    assert sum(len(det.lookup(i)) for i in det.image_ids()) == 118
    assert sum(int((det.lookup(n).scores >= 0.5).sum()) for n in counts) == 18  # README: 18 boxes >= 0.5
    # the first entry: image 785, bbox [277.1183158543966, 45.699667786163765, 225.09126579259754, 333.5602652943344]
    first = det.lookup(785)
    # x2 = 277.1183158543966 + 225.09126579259754 = 502.20958164699414, y2 = 45.6996... + 333.5602... = 379.25993308
    np.testing.assert_allclose(
        first.boxes[0], [277.1183158543966, 45.699667786163765, 502.209582, 379.259933], rtol=1e-6
    )
    assert first.scores[0] == pytest.approx(0.9999731779098511)
    # the whole-file call and filters
    results = det([None, None], image_ids=["000000000785.jpg", "nothere.jpg"])
    assert len(results[0]) == 22 and len(results[1]) == 0 and results[1].boxes.shape == (0, 4)
    assert "nothere.jpg" not in det and "x/000000040083.jpg" in det
    strong = DetFileDetector(COCO / "person_detections.json", min_score=0.5)
    assert sum(len(strong.lookup(i)) for i in strong.image_ids()) == 18
    assert len(DetFileDetector(COCO / "person_detections.json", category_id=2).lookup(785)) == 0


def test_detfile_formats_and_errors(tmp_path):
    path = tmp_path / "dets.json"
    path.write_text(
        json.dumps(
            [
                {"image_id": "frames/a.jpg", "bbox": [1, 2, 3, 4], "score": 0.5, "idx": 7},
                {"image_id": "b.jpg", "bbox": [0, 0, 10, 10], "score": 0.9, "category_id": 3},
                {"image_id": "frames/a.jpg", "bbox": [5, 5, 1, 1], "score": 0.2},
            ]
        )
    )
    det = DetFileDetector(path)
    assert det.image_ids() == ["frames/a.jpg", "b.jpg"]
    a = det.lookup("videos/frames/a.jpg")  # the same relative name below another root
    np.testing.assert_array_equal(a.boxes, [[1, 2, 4, 6], [5, 5, 6, 6]])
    assert len(det.lookup("a.jpg")) == 2  # a folder source names its images by file name
    assert len(det.lookup("other/dir/a.jpg")) == 0  # another folder's a.jpg is another image
    assert a.ids.tolist() == [7, 0]  # a record without "idx" gets AlphaPose's default id 0
    assert len(DetFileDetector(path, category_id=1).lookup("b.jpg")) == 0  # category 3 dropped
    assert len(DetFileDetector(path, category_id=1).lookup("a.jpg")) == 2  # no category_id: kept
    with pytest.raises(AkitError, match="image ids"):
        det([np.zeros((2, 2, 3), np.uint8)])

    bad = {
        "{not json": "not valid JSON",
        '{"image_id": 1}': "JSON list",
        '[{"image_id": 1, "bbox": [1, 2, 3], "score": 0.5}]': "entry 0: bbox",
        '[{"image_id": 1, "bbox": [1, 2, 3, 4]}]': "entry 0 lacks score",
        '[{"image_id": 1.5, "bbox": [1, 2, 3, 4], "score": 1}]': "image_id",
    }
    for text, problem in bad.items():
        path.write_text(text)
        with pytest.raises(AkitError, match=problem) as info:
            DetFileDetector(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(AkitError, match="cannot be read"):
        DetFileDetector(tmp_path / "missing.json")


# 6. load_detector -----------------------------------------------------------------------------------------------
def test_load_detector_names_and_options(tmp_path):
    with pytest.raises(AkitError, match="unknown detector 'nope'") as info:
        load_detector("nope")
    assert "yolov3-spp" in str(info.value)
    with pytest.raises(AkitError, match="did you mean yolov5. or yolov5"):
        load_detector("yolov5")
    with pytest.raises(AkitError, match="did you mean yolov3-spp"):
        load_detector("yolov3spp")
    with pytest.raises(AkitError, match="needs a detection JSON"):
        load_detector("detfile")
    with pytest.raises(AkitError, match="does not take option"):
        load_detector("detfile", tmp_path / "x.json", conf=0.3)
    with pytest.raises(AkitError, match="weights file not found"):
        load_detector("yolo", weights=tmp_path / "missing.weights")  # AlphaPose's name for it
    path = tmp_path / "d.json"
    path.write_text('[{"image_id": 785, "bbox": [0, 0, 1, 1], "score": 0.4}]')
    det = load_detector("detfile", path)
    assert isinstance(det, DetFileDetector) and len(det.lookup("000000000785.jpg")) == 1
    assert len(load_detector("DetFile", path=path, min_score=0.5).lookup(785)) == 0


def _check_on_real_image(detector: YOLODetector, conf_all: float) -> None:
    """Runs the detector on a real image and a crop of it; every result must be well-formed Detections."""
    image = cv2.imread(str(COCO / "000000040083.jpg"))
    frames = [image, image[:200]]
    # person only (the default): a random network rarely ranks class 0 first, so this may well be empty
    checked = [*detector(frames)]
    # every class, a threshold just under the random network's scores: boxes whatever class it ranks first
    detector.classes, detector.conf = None, conf_all
    checked += detector(frames)
    assert sum(len(d) for d in checked[2:]) > 0
    for dets, (h, w) in zip(checked, [(333, 500), (200, 500)] * 2, strict=True):
        n = len(dets)
        assert dets.boxes.dtype == np.float32 and dets.boxes.shape == (n, 4) and dets.scores.shape == (n,)
        assert (dets.boxes[:, [0, 2]] >= 0).all() and (dets.boxes[:, [0, 2]] <= w).all()
        assert (dets.boxes[:, [1, 3]] >= 0).all() and (dets.boxes[:, [1, 3]] <= h).all()
        assert (np.diff(dets.scores) <= 0).all()


@needs_coco
def test_load_detector_yolov3_spp_on_a_real_image(tmp_path):
    from alphapose_kit.detectors.nets.darknet import save_darknet_weights
    from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp

    torch.manual_seed(0)
    weights = save_darknet_weights(build_yolov3_spp(num_classes=80), tmp_path / "random.weights")
    detector = load_detector("yolov3-spp", weights=weights, input_size=320, batch_size=2)
    assert isinstance(detector, YOLODetector) and isinstance(detector.model, nn.Module)
    settings = (detector.input_size, detector.conf, detector.nms, detector.score, detector.legacy_box_plus1)
    assert settings == (320, 0.1, 0.6, "objectness", True)  # AlphaPose's, input size overridden
    assert detector.max_det is None
    _check_on_real_image(detector, conf_all=0.505)  # objectness is 0.49..0.51 here


@needs_coco
def test_load_detector_yolov5n_on_a_real_image(tmp_path):
    from alphapose_kit.detectors.nets.yolov5 import build_yolov5

    torch.manual_seed(0)
    weights = tmp_path / "random_yolov5n.pt"
    torch.save(build_yolov5("n").state_dict(), weights)
    detector = load_detector("yolov5n", weights=weights, input_size=320)
    settings = (detector.input_size, detector.conf, detector.nms, detector.score, detector.legacy_box_plus1)
    assert settings == (320, 0.25, 0.45, "objectness*class", False)  # Ultralytics', input size overridden
    assert detector.max_det == 300
    _check_on_real_image(detector, conf_all=0.0)


def _legacy_nms_reference(boxes: np.ndarray, scores: np.ndarray, thr: float) -> list[int]:
    """The Fast R-CNN CPU kernel AlphaPose uses, written out: float32 arithmetic, +1 widths, IoU >= thr."""
    x1, y1, x2, y2 = boxes.astype(np.float32).T
    one, zero = np.float32(1), np.float32(0)
    areas = (x2 - x1 + one) * (y2 - y1 + one)
    order = np.argsort(-scores, kind="stable")
    suppressed = np.zeros(len(boxes), bool)
    keep = []
    for n, i in enumerate(order):
        if suppressed[i]:
            continue
        keep.append(int(i))
        for j in order[n + 1 :]:
            w = max(zero, min(x2[i], x2[j]) - max(x1[i], x1[j]) + one)
            h = max(zero, min(y2[i], y2[j]) - max(y1[i], y1[j]) + one)
            inter = w * h
            if float(inter / (areas[i] + areas[j] - inter)) >= thr:  # C compares the float32 IoU as a double
                suppressed[j] = True
    return keep


def test_legacy_nms_matches_the_reference_kernel_on_random_grid_boxes():
    from alphapose_kit.detectors.yolo import nms_keep

    rng = np.random.default_rng(0)
    differs = 0
    for trial in range(30):
        xy = rng.integers(0, 12, (40, 2))
        boxes = np.concatenate([xy, xy + rng.integers(0, 8, (40, 2))], 1).astype(np.float32)
        scores = rng.permutation(40).astype(np.float32) / 40
        thr = (0.5, 0.6, 0.45)[trial % 3]
        ours = nms_keep(torch.from_numpy(boxes), torch.from_numpy(scores), thr, legacy_box_plus1=True).tolist()
        assert ours == _legacy_nms_reference(boxes, scores, thr)
        boxes_plus1 = torch.from_numpy(boxes + np.float32([0, 0, 1, 1]))
        differs += ours != torchvision.ops.nms(boxes_plus1, torch.from_numpy(scores), thr).tolist()
    assert differs > 0  # grid boxes hit IoU == thr, where ">=" and ">" disagree
