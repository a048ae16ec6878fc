"""COCO-WholeBody's per-part metric against its reference implementation, xtcocotools' COCOeval (keypoints_<part>)."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

from alphapose_kit.data.wholebody import COCO_WHOLEBODY133, HALPE136
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.metric import quiet_stdout
from alphapose_kit.evaluation.wholebody import WHOLEBODY_FIELDS, evaluate_wholebody

PART_SIZES = {"body": 17, "foot": 6, "face": 68, "left_hand": 21, "right_hand": 21}


def _scene(seed: int):
    """COCO-WholeBody ground truth for 6 images (people with a part unlabelled now and then, a crowd region) and
    detections: each person found with a noise scale of its own, a few false positives, a part all-zero scored."""
    rng = np.random.default_rng(seed)
    images, annotations, results = [], [], []
    for image_id in range(1, 7):
        images.append({"id": image_id, "width": 640, "height": 480, "file_name": f"{image_id}.jpg"})
        for _ in range(int(rng.integers(1, 5))):
            w, h = rng.uniform(60, 250, 2)
            x, y = rng.uniform(0, 640 - w), rng.uniform(0, 480 - h)
            joints = np.column_stack([x + rng.uniform(0, w, 133), y + rng.uniform(0, h, 133), np.full(133, 2.0)])
            joints[rng.random(133) < 0.2, 2] = 0
            for part, (start, size) in zip(PART_SIZES, ((0, 17), (17, 6), (23, 68), (91, 21), (112, 21)), strict=True):
                if part != "body" and rng.random() < 0.25:
                    joints[start : start + size, 2] = 0  # the part is not labelled
            joints[joints[:, 2] == 0, :2] = 0
            ann = {
                "id": len(annotations) + 1,
                "image_id": image_id,
                "category_id": 1,
                "iscrowd": 0,
                "bbox": [x, y, w, h],
                "area": w * h * 0.6,
                "num_keypoints": int((joints[:17, 2] > 0).sum()),
            }
            flat = joints.reshape(-1).tolist()
            for (_, key), (start, size) in zip(
                WHOLEBODY_FIELDS, ((0, 17), (17, 6), (23, 68), (91, 21), (112, 21)), strict=True
            ):
                ann[key] = flat[3 * start : 3 * (start + size)]
            annotations.append(ann)
            if rng.random() < 0.85:
                noise = rng.choice([1.0, 4.0, 12.0, 30.0])
                found = joints.copy()
                found[:, :2] = np.column_stack([x + rng.uniform(0, w, 133), y + rng.uniform(0, h, 133)])
                found[joints[:, 2] > 0, :2] = joints[joints[:, 2] > 0, :2] + rng.normal(
                    0, noise, (int((joints[:, 2] > 0).sum()), 2)
                )
                found[:, 2] = rng.uniform(0.05, 1, 133)
                if rng.random() < 0.2:
                    found[91:112, 2] = 0  # a left hand with no positive score: left out for that part
                results.append(
                    {
                        "image_id": image_id,
                        "category_id": 1,
                        "keypoints": found.reshape(-1).tolist(),
                        "score": float(rng.uniform(0.2, 3)),
                    }
                )
        for _ in range(int(rng.integers(0, 2))):
            fake = np.column_stack([rng.uniform(0, 640, 133), rng.uniform(0, 480, 133), rng.uniform(0, 1, 133)])
            results.append(
                {
                    "image_id": image_id,
                    "category_id": 1,
                    "keypoints": fake.reshape(-1).tolist(),
                    "score": float(rng.uniform(0.1, 2)),
                }
            )
    dataset = {"images": images, "annotations": annotations, "categories": [{"id": 1, "name": "person"}]}
    return dataset, results


def _xtcocotools(dataset, results) -> dict[str, float]:
    """The reference: xtcocotools' COCOeval per part, results split into COCO-WholeBody's result fields."""
    xt_coco = pytest.importorskip("xtcocotools.coco", reason="xtcocotools (make install builds it) is the reference")
    from xtcocotools.cocoeval import COCOeval

    dts = []
    for r in results:
        flat = r["keypoints"]
        entry = {"image_id": r["image_id"], "category_id": 1, "score": r["score"]}
        for (_, key), (start, size) in zip(
            WHOLEBODY_FIELDS, ((0, 17), (17, 6), (23, 68), (91, 21), (112, 21)), strict=True
        ):
            entry[key] = flat[3 * start : 3 * (start + size)]
        dts.append(entry)
    sigmas = COCO_WHOLEBODY133.sigma_array
    cut = {"body": (0, 17), "foot": (17, 23), "face": (23, 91), "left_hand": (91, 112), "right_hand": (112, 133)}
    kinds = {
        "body": "keypoints_body",
        "foot": "keypoints_foot",
        "face": "keypoints_face",
        "left_hand": "keypoints_lefthand",
        "right_hand": "keypoints_righthand",
        "wholebody": "keypoints_wholebody",
    }
    out = {}
    with quiet_stdout(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gt = xt_coco.COCO()
        gt.dataset = copy.deepcopy(dataset)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(dts))
        for part, kind in kinds.items():
            a, b = cut.get(part, (0, 133))
            ev = COCOeval(gt, dt, kind, sigmas[a:b], use_area=True)
            ev.params.useSegm = None
            ev.evaluate()
            ev.accumulate()
            ev.summarize()
            out[part] = float(ev.stats[0])
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_per_part_ap_equals_xtcocotools(seed: int) -> None:
    dataset, results = _scene(seed)
    ours = evaluate_wholebody(dataset, results, COCO_WHOLEBODY133)
    theirs = _xtcocotools(dataset, results)
    assert set(ours) == set(theirs)
    for part, ap in theirs.items():
        assert ours[part]["AP"] == pytest.approx(ap, abs=1e-12), part
    assert 0 < ours["wholebody"]["AP"] < 1


def test_halpe_layout_and_bad_inputs() -> None:
    """Halpe keeps all 136 joints in ``keypoints``: its parts are scored from there; a COCO-WholeBody file with
    another set, or a set without parts, is refused in one line."""
    dataset, results = _scene(3)
    halpe = copy.deepcopy(dataset)
    for ann in halpe["annotations"]:
        body = np.asarray(ann["keypoints"]).reshape(-1, 3)
        extra = np.zeros((136 - 17, 3))
        ann["keypoints"] = np.concatenate([body, extra]).reshape(-1).tolist()
        for _, key in WHOLEBODY_FIELDS[1:]:
            del ann[key]
    padded = [
        {
            **r,
            "keypoints": np.concatenate([np.asarray(r["keypoints"]).reshape(-1, 3)[:17], np.ones((119, 3))])
            .reshape(-1)
            .tolist(),
        }
        for r in results
    ]
    scores = evaluate_wholebody(halpe, padded, HALPE136)
    assert set(scores) == {"body", "foot", "face", "left_hand", "right_hand", "wholebody"}
    with pytest.raises(AkitError, match="133 joints"):
        evaluate_wholebody(dataset, padded, HALPE136)


def test_akit_eval_scores_coco_wholebody_results_per_part(tmp_path) -> None:
    """``akit eval --coco WHOLEBODY.json --results R``: metrics.json's AP is the whole-body AP and 'parts' holds
    every part's, each equal to xtcocotools' on the same files."""
    import json

    from alphapose_kit.cli.app import main

    dataset, results = _scene(4)
    (tmp_path / "gt.json").write_text(json.dumps(dataset))
    (tmp_path / "res.json").write_text(json.dumps(results))
    out = tmp_path / "eval"
    assert main(["eval", "--coco", str(tmp_path / "gt.json"), "--results", str(tmp_path / "res.json"), "-o", str(out),
                 "-q"]) == 0  # fmt: skip
    metrics = json.loads((out / "metrics.json").read_text())
    theirs = _xtcocotools(dataset, results)
    assert metrics["AP"] == pytest.approx(theirs["wholebody"], abs=1e-12)
    for part, ap in theirs.items():
        assert metrics["parts"][part]["AP"] == pytest.approx(ap, abs=1e-12), part
