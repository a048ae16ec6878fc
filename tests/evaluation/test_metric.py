"""The metric: COCOeval('keypoints') restricted to the evaluated images, with the keypoint set's sigmas.

Expected numbers come from the ground truth itself (AP 1.0) or from pycocotools called directly on the same files.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import numpy as np
import pytest
from pycocotools.coco import COCO as CocoApi
from pycocotools.cocoeval import COCOeval

from alphapose_kit import evaluate
from alphapose_kit.data.coco import CocoAnnotations
from alphapose_kit.data.keypoints import COCO17, HALPE26, KeypointSet
from alphapose_kit.errors import AkitError
from alphapose_kit.evaluation.metric import STAT_KEYS, coco_index, evaluate_keypoints, format_table
from tests.logcapture import captured_logs
from tests.paths import COCO

ANN = COCO / "person_keypoints.json"


def gt_results(ann: dict) -> list[dict]:
    """Every labelled person of the annotation as a result with score 1: the perfect prediction."""
    return [
        {"image_id": a["image_id"], "category_id": 1, "keypoints": a["keypoints"], "score": 1.0}
        for a in ann["annotations"]
        if a["num_keypoints"] > 0
    ]


def perturbed_results(ann: dict, seed: int = 0) -> list[dict]:
    """GT keypoints moved by noise proportional to each person's size, random scores, one person missed, one
    false positive per image: numbers spread over the whole range of every statistic."""
    rng = np.random.RandomState(seed)
    out = []
    for n, a in enumerate(a for a in ann["annotations"] if a["num_keypoints"] > 0):
        if n == 3:
            continue
        kp = np.asarray(a["keypoints"], np.float64).reshape(-1, 3)
        kp[:, :2] += rng.normal(0, 0.04 * (1 + n % 4) * np.sqrt(a["area"]), (len(kp), 2))
        kp[:, 2] = rng.uniform(0.2, 1, len(kp))
        out.append(
            {
                "image_id": a["image_id"],
                "category_id": 1,
                "keypoints": kp.reshape(-1).tolist(),
                "score": float(rng.uniform(0.5, 3)),
            }
        )
    for image in ann["images"]:
        kp = np.stack([rng.uniform(0, image["width"], 17), rng.uniform(0, image["height"], 17), np.ones(17)], 1)
        out.append({"image_id": image["id"], "category_id": 1, "keypoints": kp.reshape(-1).tolist(), "score": 0.9})
    return out


def pycocotools_stats(ann_file: Path, results: list[dict]) -> list[float]:
    """What pycocotools gives when called directly, default parameters."""
    with contextlib.redirect_stdout(io.StringIO()):
        gt = CocoApi(str(ann_file))
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return [float(v) for v in ev.stats]


@pytest.fixture(scope="module")
def ann() -> dict:
    return json.loads(ANN.read_text())


def test_ground_truth_scores_ap_one(ann: dict, tmp_path: Path) -> None:
    results = tmp_path / "gt.json"
    results.write_text(json.dumps(gt_results(ann)))
    metrics = evaluate(ANN, results=results, outdir=tmp_path / "out")
    assert [metrics[k] for k in ("AP", "AP50", "AP75", "AR", "AR50", "AR75")] == [1.0] * 6
    assert metrics["APm"] == metrics["APl"] == metrics["ARm"] == metrics["ARl"] == 1.0
    assert set(metrics["ap_by_oks"].values()) == {1.0} and metrics["swaps"]["total"] == 0
    assert metrics["matched_people"] == 12 and all(j["accuracy"] == 1.0 for j in metrics["per_joint"].values())
    assert json.loads((tmp_path / "out" / "metrics.json").read_text()) == metrics


def test_known_perturbation_equals_pycocotools_called_directly(ann: dict, tmp_path: Path) -> None:
    results = perturbed_results(ann)
    path = tmp_path / "perturbed.json"
    path.write_text(json.dumps(results))
    expected = pycocotools_stats(ANN, results)
    assert len(set(expected)) > 5  # a spread of numbers, not all 0 or 1
    metrics = evaluate(ANN, results=path, outdir=tmp_path / "out")
    assert [metrics[k] for k in STAT_KEYS] == expected
    direct = evaluate_keypoints(
        coco_index(CocoAnnotations(ANN).data), results, [785, 40083, 196141, 197388], COCO17.sigma_array
    )
    assert list(direct.stats.values()) == expected
    assert np.mean(list(direct.ap_by_oks.values())) == pytest.approx(expected[0], abs=1e-12)


def test_table_is_pycocotools_summary_line_for_line(ann: dict) -> None:
    results = perturbed_results(ann, seed=1)
    with contextlib.redirect_stdout(io.StringIO()):
        gt = CocoApi(str(ANN))
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.evaluate()
        ev.accumulate()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        ev.summarize()
    ours = evaluate_keypoints(coco_index(json.loads(ANN.read_text())), results, gt.getImgIds(), COCO17.sigma_array)
    assert format_table(ours.stats) == printed.getvalue().rstrip("\n")


def test_alphapose_file_names_score_as_integer_ids(ann: dict, tmp_path: Path) -> None:
    coco = perturbed_results(ann, seed=2)
    names = {i["id"]: i["file_name"] for i in ann["images"]}
    alphapose = [
        {
            "image_id": names[r["image_id"]],
            "category_id": 1,
            "keypoints": r["keypoints"],
            "score": r["score"],
            "box": [0, 0, 10, 10],
            "idx": [0.0],
        }
        for r in coco
    ]
    (tmp_path / "coco.json").write_text(json.dumps(coco))
    (tmp_path / "alphapose.json").write_text(json.dumps(alphapose))
    by_int = evaluate(ANN, results=tmp_path / "coco.json", outdir=tmp_path / "a")
    by_name = evaluate(ANN, results=tmp_path / "alphapose.json", outdir=tmp_path / "b")
    assert [by_name[k] for k in STAT_KEYS] == [by_int[k] for k in STAT_KEYS] == pycocotools_stats(ANN, coco)
    written = json.loads((tmp_path / "b" / "results.json").read_text())
    assert [r["image_id"] for r in written] == [r["image_id"] for r in coco]  # integer ids in the COCO file
    run = tmp_path / "run"  # an akit infer run folder is taken as its alphapose-results.json
    run.mkdir()
    (run / "alphapose-results.json").write_text(json.dumps(alphapose))
    by_folder = evaluate(ANN, results=run, outdir=tmp_path / "c")
    assert [by_folder[k] for k in STAT_KEYS] == [by_int[k] for k in STAT_KEYS]
    with pytest.raises(AkitError, match="streamed copy"):
        evaluate(ANN, results=run / "alphapose-results.jsonl", outdir=tmp_path / "d")


def test_only_the_evaluated_images_count(ann: dict, tmp_path: Path) -> None:
    one_image = [r for r in gt_results(ann) if r["image_id"] == 197388]
    one_image.append({**one_image[0], "image_id": "not-an-image.jpg"})
    path = tmp_path / "one.json"
    path.write_text(json.dumps(one_image))
    metrics = evaluate(ANN, results=path, outdir=tmp_path / "out")
    assert metrics["AP"] == 1.0 and metrics["AR"] == 1.0  # the other 3 images' 7 people are not misses
    assert metrics["images"] == 1 and metrics["images_without_results"] == 3 and metrics["unmatched_results"] == 1
    assert pycocotools_stats(ANN, one_image[:-1])[5] < 1.0  # unrestricted, the other images' people count as missed


def halpe_annotation(tmp_path: Path) -> Path:
    """Two people with 26 joints each (COCO-17 + 9 Halpe body/feet points)."""
    rng = np.random.RandomState(0)
    anns = []
    for n in range(2):
        kp = np.stack([rng.uniform(100, 300, 26), rng.uniform(50, 350, 26), np.full(26, 2)], 1)
        anns.append(
            {
                "id": n + 1,
                "image_id": 1,
                "category_id": 1,
                "iscrowd": 0,
                "area": 20000.0 + n,
                "bbox": [100, 50, 200, 300],
                "keypoints": kp.reshape(-1).tolist(),
                "num_keypoints": 26,
            }
        )
    data = {
        "images": [{"id": 1, "file_name": "h.jpg", "width": 400, "height": 400}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(HALPE26.names)}],
    }
    path = tmp_path / "halpe.json"
    path.write_text(json.dumps(data))
    return path


def test_halpe26_is_scored_with_its_own_sigmas(tmp_path: Path) -> None:
    ann_file = halpe_annotation(tmp_path)
    data = json.loads(ann_file.read_text())
    results = gt_results(data)
    with pytest.raises(ValueError):  # pycocotools alone: its 17 sigmas do not broadcast against 26 joints
        pycocotools_stats(ann_file, results)
    (tmp_path / "r.json").write_text(json.dumps(results))
    assert evaluate(ann_file, results=tmp_path / "r.json", outdir=tmp_path / "out")["AP"] == 1.0
    # shifting one foot point by 2 px moves the OKS by exp(-4 / (2 area (2 sigma)^2)), sigma = 0.089 for toes
    moved = copy.deepcopy(results)
    moved[0]["keypoints"][3 * 20] += 2.0
    area = data["annotations"][0]["area"]
    expected_oks = (25 + np.exp(-4 / (2 * area * (2 * 0.089) ** 2))) / 26
    ev = evaluate_keypoints(coco_index(data), moved, [1], HALPE26.sigma_array)
    assert ev.cocoeval.ious[(1, 1)][0, 0] == pytest.approx(expected_oks, rel=1e-12)


def test_custom_set_without_sigmas_names_what_to_add() -> None:
    bare = KeypointSet("hand3", ("a", "b", "c"), (), (), ())
    with pytest.raises(AkitError, match=r'add "sigmas": \[3 per-joint values\]'):
        _ = bare.sigma_array


def test_results_errors_are_one_line(ann: dict, tmp_path: Path) -> None:
    cases = {
        "empty.json": ([], "is empty"),
        "strangers.json": ([{**gt_results(ann)[0], "image_id": 123}], "no result of .* names an image"),
        "short.json": ([{**gt_results(ann)[0], "keypoints": [1, 2, 3]}], "needs 'keypoints' with 51"),
        "dict.json": ({"a": 1}, "must hold a JSON list"),
    }
    for name, (content, message) in cases.items():
        (tmp_path / name).write_text(json.dumps(content))
        with pytest.raises(AkitError, match=message) as err:
            evaluate(ANN, results=tmp_path / name, outdir=tmp_path / "out")
        assert "\n" not in str(err.value)
    with pytest.raises(AkitError, match="no --checkpoint"):
        evaluate(ANN, results=tmp_path / "empty.json", checkpoint="w.pth")


def test_an_unfinished_run_is_scored_from_its_stream(ann: dict, tmp_path: Path) -> None:
    """A run killed before its final JSON (run.json still says running) is scored from its JSONL lines."""
    from alphapose_kit.io.run_info import RUNNING, write_run_info

    results = perturbed_results(ann, seed=3)
    run = tmp_path / "killed"
    run.mkdir()
    lines = [{"frame": n, "image_id": i, "people": [r for r in results if r["image_id"] == i]}
             for n, i in enumerate(sorted({r["image_id"] for r in results}))]  # fmt: skip
    (run / "alphapose-results.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines) + '{"frame": 9')
    write_run_info(run, source="val", fps=None, frames=0, size=None, model={}, status=RUNNING)
    with captured_logs() as logs:
        metrics = evaluate(ANN, results=run, outdir=tmp_path / "out")
    assert any("unfinished run" in line and "status running" in line for line in logs), logs
    assert [metrics[k] for k in STAT_KEYS] == pycocotools_stats(ANN, results)  # the torn last line is left out


def test_the_run_s_own_keypoint_set_gives_the_sigmas(ann: dict, tmp_path: Path) -> None:
    """run.json's set (a custom one: every sigma 0.05) scores the results, as pycocotools does with those sigmas."""
    from alphapose_kit.io.run_info import write_run_info

    custom = KeypointSet("flat17", COCO17.names, COCO17.flip_pairs, COCO17.skeleton, (0.05,) * 17, COCO17.neck_from)
    results = perturbed_results(ann, seed=4)
    run = tmp_path / "run"
    run.mkdir()
    (run / "alphapose-results.json").write_text(json.dumps(results))
    write_run_info(run, source="val", fps=None, frames=4, size=None, model={"keypoint_set": custom})
    metrics = evaluate(ANN, results=run, outdir=tmp_path / "out")
    with contextlib.redirect_stdout(io.StringIO()):
        gt = CocoApi(str(ANN))
        ev = COCOeval(gt, gt.loadRes(copy.deepcopy(results)), "keypoints")
        ev.params.kpt_oks_sigmas = np.full(17, 0.05)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert [metrics[k] for k in STAT_KEYS] == [float(v) for v in ev.stats]
    assert [metrics[k] for k in STAT_KEYS] != pycocotools_stats(ANN, results)  # COCO's sigmas give other numbers


def test_outdir_rule_refuses_then_replaces_only_eval_outputs(ann: dict, tmp_path: Path) -> None:
    results = tmp_path / "r.json"
    results.write_text(json.dumps(gt_results(ann)))
    out = tmp_path / "out"
    evaluate(ANN, results=results, outdir=out)
    for stale in ("results_det.json", "eval_gt.png"):  # what an earlier two-pass --plot eval leaves
        (out / stale).write_text("earlier run")
    (out / "notes.txt").write_text("mine")
    with pytest.raises(AkitError, match=r"already holds the outputs of an earlier akit eval .*--exist-ok"):
        evaluate(ANN, results=results, outdir=out)
    evaluate(ANN, results=results, outdir=out, exist_ok=True)
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "notes.txt", "results.json"]


def test_posetrack_on_a_coco_folder_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(AkitError, match="not a PoseTrack18 annotation file: annotation 0 has no track_id"):
        evaluate(posetrack=str(COCO), results=str(tmp_path), outdir=tmp_path / "out")
