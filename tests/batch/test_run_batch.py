"""run_batch on a local Ray runtime with 2 CPUs: each source's outputs equal a single-process run_inference of it,
a worker killed mid-video is retried with the same results, a corrupt source fails alone, a rerun skips what is done.

Random FastPose weights (output bias 1, so every box survives pose NMS), 128x96 crops and a detection file with two
boxes on each of the 5 frames, so nothing is downloaded. The runtime starts once for the module (about 15 s).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
from pathlib import Path

import cv2
import pytest
import torch

from alphapose_kit.batch import MANIFEST_NAME, Manifest, run_batch
from alphapose_kit.batch.runner import task_resources
from alphapose_kit.engine.infer import run_inference
from alphapose_kit.engine.options import InferOptions
from tests.batch.crash_hook import ARM_ENV
from tests.cli.test_infer import COCO_CFG, SMALL, confident_checkpoint
from tests.logcapture import captured_logs
from tests.paths import REPO

ray = pytest.importorskip("ray", reason="Ray is the optional extra alphapose-kit[ray]")

FRAMES = 5


@pytest.fixture(scope="module")
def crash_arm(tmp_path_factory) -> Path:
    """Where the crash hook looks for its trigger file (absent: no worker dies)."""
    return tmp_path_factory.mktemp("crash") / "arm"


@pytest.fixture(scope="module", autouse=True)
def local_ray(crash_arm):
    """One local runtime for the module (2 CPUs, 1 logical GPU); workers import this checkout and install the crash
    hook."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
        ray.init(
            num_cpus=2,
            num_gpus=1,  # a logical GPU (Ray does not look): task_resources must ask for it; the runs use --device cpu
            include_dashboard=False,
            logging_level=logging.WARNING,
            runtime_env={
                "worker_process_setup_hook": "tests.batch.crash_hook.install",
                "env_vars": {ARM_ENV: str(crash_arm)},
            },
        )
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def videos(tmp_path_factory, shared_data) -> Path:
    """one/walk.mp4 (the shared video), two/walk.mp4 (the same mirrored: other results, same name), bad/broken.mp4."""
    root = tmp_path_factory.mktemp("videos")
    for folder in ("one", "two", "bad"):
        (root / folder).mkdir()
    shutil.copy(shared_data / "video" / "people_walking.mp4", root / "one" / "walk.mp4")
    capture = cv2.VideoCapture(str(shared_data / "video" / "people_walking.mp4"))
    size = (int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    writer = cv2.VideoWriter(str(root / "two" / "walk.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 10, size)
    while (item := capture.read())[0]:
        writer.write(cv2.flip(item[1], 1))
    writer.release()
    (root / "bad" / "broken.mp4").write_text("not a video\n")
    return root


@pytest.fixture(scope="module")
def options(tmp_path_factory) -> InferOptions:
    folder = tmp_path_factory.mktemp("inputs")
    records = [
        {"image_id": f"{frame}.jpg", "bbox": box, "score": score}
        for frame in range(FRAMES)
        for box, score in (([100.0, 150.0, 80.0, 200.0], 0.9), ([500.0, 120.0, 90.0, 240.0], 0.8))
    ]
    (folder / "dets.json").write_text(json.dumps(records))
    return InferOptions(
        config=COCO_CFG,
        checkpoint=str(confident_checkpoint(folder / "fastpose.pth", COCO_CFG)),
        detfile=str(folder / "dets.json"),
        device="cpu",
        threads=1,
        quiet=True,
        opts=SMALL[1:],
    )


@pytest.fixture(scope="module")
def reference(tmp_path_factory, videos, options) -> dict[str, Path]:
    """Each good video run alone, in this process, by run_inference."""
    root = tmp_path_factory.mktemp("reference")
    threads = torch.get_num_threads()
    runs = {}
    for folder in ("one", "two"):
        out = root / folder
        run_inference(dataclasses.replace(options, source=str(videos / folder / "walk.mp4"), outdir=str(out)))
        runs[folder] = out
    torch.set_num_threads(threads)
    return runs


def assert_same_run(batch_dir: Path, single_dir: Path) -> None:
    """Same results file, and the same run.json apart from the folder it names (its own)."""
    batch = json.loads((batch_dir / "alphapose-results.json").read_text())
    single = json.loads((single_dir / "alphapose-results.json").read_text())
    assert batch == single and len(batch) == 2 * FRAMES
    assert (batch_dir / "alphapose-results.jsonl").read_text() == (single_dir / "alphapose-results.jsonl").read_text()
    batch_info = json.loads((batch_dir / "run.json").read_text())
    single_info = json.loads((single_dir / "run.json").read_text())
    assert batch_info["options"].pop("outdir") == str(batch_dir)
    assert single_info["options"].pop("outdir") == str(single_dir)
    assert batch_info == single_info
    assert sorted(p.name for p in batch_dir.iterdir()) == sorted(p.name for p in single_dir.iterdir())


def no_leftovers(outdir: Path) -> bool:
    return not [p.name for p in outdir.iterdir() if p.name.startswith(".")]


def test_batch_equals_single_runs_corrupt_fails_alone_and_rerun_skips(tmp_path, videos, options, reference):
    out = tmp_path / "batch"
    sources = [str(videos / "one"), str(videos / "two" / "*.mp4"), str(videos / "bad" / "broken.mp4")]
    manifest = run_batch(sources, options, out)

    entries = manifest.entries
    assert list(entries) == ["walk", "walk-2", "broken"]
    assert entries["walk"].source == str(videos / "one" / "walk.mp4")
    assert entries["walk-2"].source == str(videos / "two" / "walk.mp4")
    for name in ("walk", "walk-2"):
        assert entries[name].status == "done" and entries[name].error is None
        assert entries[name].frames == FRAMES and entries[name].people == 2 * FRAMES and entries[name].seconds > 0
    assert entries["broken"].status == "failed" and entries["broken"].frames == 0
    assert "broken.mp4" in entries["broken"].error and "\n" not in entries["broken"].error
    assert_same_run(out / "walk", reference["one"])
    assert_same_run(out / "walk-2", reference["two"])
    assert not (out / "broken").exists() and no_leftovers(out)
    on_disk = json.loads((out / MANIFEST_NAME).read_text())
    assert [(e["name"], e["status"]) for e in on_disk["sources"]] == [
        ("walk", "done"),
        ("walk-2", "done"),
        ("broken", "failed"),
    ]
    assert manifest.line().startswith("2 of 3 sources done, 1 failed (broken: failed: ")

    # rerun: the finished sources are not touched; one whose output file went missing runs again
    stamps = {name: (out / name / "alphapose-results.json").stat().st_mtime_ns for name in ("walk", "walk-2")}
    (out / "walk-2" / "alphapose-results.json").unlink()
    with captured_logs(logging.INFO) as messages:
        again = run_batch(sources, options, out)
    assert any("1 of 3 sources already done" in m for m in messages)
    assert (out / "walk" / "alphapose-results.json").stat().st_mtime_ns == stamps["walk"]
    assert again.entries["walk-2"].status == "done"
    assert_same_run(out / "walk-2", reference["two"])
    assert again.entries["broken"].status == "failed" and no_leftovers(out)


def test_worker_killed_mid_video_is_retried_with_the_same_results(tmp_path, videos, options, reference, crash_arm):
    out = tmp_path / "batch"
    crash_arm.write_text("")
    manifest = run_batch([str(videos / "one" / "walk.mp4"), str(videos / "two" / "walk.mp4")], options, out)

    fired = Path(f"{crash_arm}.fired")
    assert fired.exists() and not crash_arm.exists()  # a worker did die after its second frame
    partial = Path(fired.read_text())
    assert partial.parent == out and partial.name.startswith((".walk.partial-", ".walk-2.partial-"))
    assert not partial.exists() and no_leftovers(out)  # its half-written folder is gone
    assert [entry.status for entry in manifest.entries.values()] == ["done", "done"]
    assert_same_run(out / "walk", reference["one"])
    assert_same_run(out / "walk-2", reference["two"])
    assert Manifest.load(out).entries == manifest.entries


def test_gpu_workers_take_one_gpu_and_cpu_workers_their_threads(options) -> None:
    resources, worker = task_resources(ray, dataclasses.replace(options, device="cuda:1", threads=None))
    assert resources == {"num_gpus": 1, "num_cpus": 2} and worker.device == "cuda"  # Ray picks the GPU
    assert worker.threads == 2  # the cluster's CPUs per GPU
    resources, worker = task_resources(ray, dataclasses.replace(options, device="auto"))
    assert resources == {"num_gpus": 1, "num_cpus": 1} and worker.device == "auto" and worker.threads == 1
    resources, worker = task_resources(ray, dataclasses.replace(options, threads=8))  # --device cpu
    assert resources == {"num_cpus": 2} and worker.threads == 2  # at most a node's CPUs
    resources, worker = task_resources(ray, dataclasses.replace(options, threads=None))
    assert resources == {"num_cpus": 2} and worker.threads == 2  # the default
    resources, worker = task_resources(ray, options)
    assert resources == {"num_cpus": 1} and worker.threads == 1


def test_a_worker_dying_on_every_attempt_fails_its_source_and_a_rerun_runs_it(tmp_path, videos, options, crash_arm):
    out = tmp_path / "batch"
    crash_arm.write_text("")
    failed = run_batch([str(videos / "one" / "walk.mp4")], options, out, max_retries=0)
    entry = failed.entries["walk"]
    assert entry.status == "failed" and not crash_arm.exists()
    assert entry.error.startswith("its worker died on all 1 attempts (WorkerCrashedError: ")
    assert not (out / "walk").exists() and no_leftovers(out)
    again = run_batch([str(videos / "one" / "walk.mp4")], options, out, max_retries=0)
    assert again.entries["walk"].status == "done" and again.entries["walk"].frames == FRAMES


def test_akit_infer_with_ray_runs_every_source_as_one_infer_would(tmp_path, videos, options, reference, capsys):
    """The CLI: several sources with --ray give each source's single-run output; without --ray they are refused."""
    from alphapose_kit.cli.app import main

    out = tmp_path / "cli"
    model = ["-c", options.config, "-w", options.checkpoint, "--detfile", options.detfile, "--device", "cpu"]
    two = [str(videos / "one" / "walk.mp4"), str(videos / "two" / "walk.mp4")]
    assert main(["infer", *two, "--ray", "auto", "-o", str(out), *model, "--threads", "1", "-q", *SMALL]) == 0
    assert_same_run(out / "walk", reference["one"])
    assert_same_run(out / "walk-2", reference["two"])
    assert "2 of 2 sources done" in capsys.readouterr().err
    assert main(["infer", *two, "-o", str(tmp_path / "plain"), *model, *SMALL]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("akit: error:") and "--ray" in err[0]
