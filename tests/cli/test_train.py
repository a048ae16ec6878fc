"""``akit train`` end to end on the shared COCO images: the proof that it learns, resume, torchrun, one-line errors.

The network is the tiny TinyPoseTest (tests/engine/tiny_model.py) at a 128 x 96 input so that everything runs on
two CPU cores; the data, targets, loss, checkpoints, decoder and ``akit eval`` are the real ones.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import tests.engine.tiny_model  # noqa: F401  (registers TinyPoseTest in this process)
from alphapose_kit.cli.app import main
from alphapose_kit.engine.run_files import read_metrics
from alphapose_kit.engine.trainer import Trainer
from tests.engine.tiny_model import TINY_OPTS
from tests.paths import COCO, REPO
from tests.threads import one_thread  # noqa: F401  (autouse fixture)

ANN = COCO / "person_keypoints.json"
SMALL = [
    *TINY_OPTS,
    "DATA_PRESET.IMAGE_SIZE", "[128, 96]",
    "DATA_PRESET.HEATMAP_SIZE", "[32, 24]",
    "TRAIN.DPG_MILESTONE", "-1",
    "TRAIN.NUM_WORKERS", "1",
]  # fmt: skip
NO_AUG = ["DATASET.TRAIN.AUG.SCALE_FACTOR", "0", "DATASET.TRAIN.AUG.ROT_FACTOR", "0", "DATASET.TRAIN.AUG.FLIP", "false"]


def _repeated_annotations(tmp_path: Path, times: int) -> Path:
    """The shared COCO annotation file with every person listed ``times`` times (an epoch = ``times`` passes)."""
    data = json.loads(ANN.read_text())
    people = data["annotations"]
    data["annotations"] = [{**a, "id": a["id"] * 100 + r} for r in range(times) for a in people]
    path = tmp_path / f"train_x{times}.json"
    path.write_text(json.dumps(data))
    return path


def _train(tmp_path: Path, run: Path, *extra: str, ann: Path | None = None) -> int:
    return main(
        ["train", "--train-ann", str(ann or ANN), "--train-images", str(COCO), "--val-ann", str(ANN),
         "--val-images", str(COCO), "--outdir", str(run), "--quiet", *extra]
    )  # fmt: skip


# --- PROOF THAT IT LEARNS (the slowest test of this file: ~30-60 s on 2 cores) -------------------------------------


def test_proof_it_learns_memorises_the_shared_coco_people(tmp_path: Path) -> None:
    """300 Adam steps on the 12 annotated people (augmentation off): the loss falls, AlphaPose's training accuracy
    passes 0.8, and ``akit eval`` of best.pth on the same images scores AP > 0.5. Evidence that data, targets, loss,
    checkpoint, decoder and evaluation fit together (memorisation, not generalisation)."""
    train_ann = _repeated_annotations(tmp_path, 12)  # 144 samples: 12 steps of 12 per epoch, 25 epochs
    run = tmp_path / "run"
    code = _train(
        tmp_path, run, "--epochs", "25", "--batch", "12", "--lr", "3e-3",
        "--opts", *SMALL, *NO_AUG, "TRAIN.VAL_INTERVAL", "25", ann=train_ann,
    )  # fmt: skip
    assert code == 0
    rows = read_metrics(run)
    assert len(rows) == 25
    assert rows[-1]["loss"] < rows[0]["loss"] / 5  # the loss falls
    assert rows[-1]["accuracy"] > 0.8  # AlphaPose's calc_accuracy on the training batches
    assert rows[-1]["AP"] > 0.5  # the trainer's own validation (akit eval's evaluator, GT boxes)
    assert {p.name for p in run.iterdir()} >= {"last.pth", "best.pth", "metrics.csv", "curves.png", "config.yaml"}
    out = tmp_path / "eval"
    assert main(["eval", "--coco", str(ANN), "--images", str(COCO), "--config", str(run / "config.yaml"),
                 "--checkpoint", str(run / "best.pth"), "--outdir", str(out), "--quiet"]) == 0  # fmt: skip
    ap = json.loads((out / "metrics.json").read_text())["AP"]
    assert ap > 0.5 and ap == pytest.approx(rows[-1]["AP"])


def test_validation_with_a_detection_file_adds_the_detected_box_ap(tmp_path: Path) -> None:
    run = tmp_path / "run"
    dets = COCO / "person_detections.json"
    code = _train(
        tmp_path, run, "--epochs", "1", "--batch", "12",
        "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "1", "DATASET.VAL.DET_FILE", str(dets),
    )  # fmt: skip
    assert code == 0
    row = read_metrics(run)[0]
    metrics = json.loads((run / "val" / "metrics.json").read_text())
    assert row["AP"] == pytest.approx(metrics["gt"]["AP"]) and row["AP_det"] == pytest.approx(metrics["det"]["AP"])
    assert metrics["det"]["detections"] == 118  # every entry of the file, as AlphaPose's validate()


def test_integral_regression_model_trains_and_validates(tmp_path: Path) -> None:
    """LOSS.TYPE L1JointRegression end to end: (2K,) targets, the symmetric-integral loss, integral accuracy, and
    validation through the integral decoder."""
    run = tmp_path / "run"
    integral = ["DATA_PRESET.LOSS_TYPE", "L1JointRegression", "LOSS.TYPE", "L1JointRegression",
                "LOSS.NORM_TYPE", "sigmoid", "TRAIN.VAL_INTERVAL", "1"]  # fmt: skip
    assert _train(tmp_path, run, "--epochs", "1", "--batch", "6", "--opts", *SMALL, *integral) == 0
    row = read_metrics(run)[0]
    assert row["loss"] > 0 and 0 <= row["accuracy"] <= 1 and row["AP"] is not None


# --- resume, manifest, torchrun ------------------------------------------------------------------------------------


def _stop_after_first_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Trainer.save_epoch

    def save_then_stop(self: Trainer, row: dict) -> None:
        original(self, row)
        if self.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "save_epoch", save_then_stop)


def test_interrupted_run_resumes_from_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = tmp_path / "run"
    args = ["--epochs", "2", "--batch", "6", "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0"]
    with monkeypatch.context() as patch:
        _stop_after_first_epoch(patch)
        assert _train(tmp_path, run, *args) == 130  # interrupted after epoch 1: last.pth kept
    assert [r["epoch"] for r in read_metrics(run)] == [1]
    assert main(["train", "--resume", str(run), "--quiet"]) == 0
    assert [r["epoch"] for r in read_metrics(run)] == [1, 2]
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["seed"] == 0 and manifest["datasets"]["train"]["sha256"]
    assert manifest["resumes"][0]["resumed_from"] == str(run / "last.pth")
    assert torch.load(run / "last.pth", weights_only=True)["epoch"] == 2


def test_resume_with_another_config_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert _train(tmp_path, run, "--epochs", "1", "--batch", "12", "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0") == 0
    before = (run / "last.pth").read_bytes()
    capsys.readouterr()  # the first run's log lines
    assert main(["train", "--resume", str(run), "--lr", "0.01", "--quiet"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [err[0]] and "another config (differs at TRAIN.LR (0.001 vs 0.01))" in err[0]
    assert (run / "last.pth").read_bytes() == before
    assert _train(tmp_path, run, "--epochs", "1", "--opts", *SMALL) == 1  # an existing run is never overwritten
    assert "already holds a training run" in capsys.readouterr().err
    # a new run may start from that one's weights: --init-from reports what it loaded
    run2 = tmp_path / "run2"
    init = ["--init-from", str(run / "last.pth"), "--epochs", "1", "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0"]
    assert _train(tmp_path, run2, *init) == 0
    tensors = len(torch.load(run / "last.pth", weights_only=True)["state_dict"])
    assert f"{tensors} tensors loaded; 0 new; 0 shape mismatches; 0 unused" in capsys.readouterr().err
    assert json.loads((run2 / "manifest.json").read_text())["init_report"].startswith("init from ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_torchrun_two_processes_write_a_checkpoint_that_resumes(tmp_path: Path) -> None:
    """gloo DDP through torchrun (2 CPU processes); stopped after epoch 1, then resumed in one process."""
    run = tmp_path / "run"
    launcher = tmp_path / "akit_tiny.py"  # the akit CLI with TinyPoseTest registered, stopping after epoch 1
    launcher.write_text(
        "import sys\nimport tests.engine.tiny_model\nfrom alphapose_kit.engine.trainer import Trainer\n"
        "save = Trainer.save_epoch\n"
        "def save_then_stop(self, row):\n    save(self, row)\n    if self.epoch == 1:\n        sys.exit(3)\n"
        "Trainer.save_epoch = save_then_stop\n"
        "from alphapose_kit.cli.app import main\nsys.exit(main())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = ["train", "--train-ann", str(ANN), "--train-images", str(COCO), "--val-ann", str(ANN), "--val-images",
            str(COCO), "--outdir", str(run), "--quiet", "--device", "cpu", "--epochs", "2", "--batch", "3", "--opts",
            *SMALL, "TRAIN.SYNC_BN", "true", "TRAIN.VAL_INTERVAL", "1", "TRAIN.NUM_WORKERS", "0"]  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", str(_free_port()),
         str(launcher), *args],
        env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert proc.returncode != 0, proc.stderr[-2000:]  # stopped on purpose after epoch 1
    first = torch.load(run / "last.pth", weights_only=True)
    assert first["epoch"] == 1 and first["global_step"] == 2  # 12 people / (2 processes x 3) = 2 steps
    assert read_metrics(run)[0]["AP"] is not None  # validation ran with both processes
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["world_size"] == 2
    assert main(["train", "--resume", str(run), "--quiet", "--device", "cpu"]) == 0
    assert torch.load(run / "last.pth", weights_only=True)["epoch"] == 2


# --- one-line errors -----------------------------------------------------------------------------------------------


def _write(tmp_path: Path, name: str, data: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("no_keypoints", "has no keypoints"),
        ("joint_count", "predicts 17 joints but"),
        ("missing_image", "are missing under"),
        ("typo", "unknown config key TRAIN.LRR; did you mean TRAIN.LR?"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, case: str, message: str) -> None:
    data = json.loads(ANN.read_text())
    ann = ANN
    extra: list[str] = []
    if case == "no_keypoints":
        for a in data["annotations"]:
            a.pop("keypoints")
        ann = _write(tmp_path, "a.json", data)
    elif case == "joint_count":
        for a in data["annotations"]:
            a["keypoints"] = a["keypoints"][:6]
        data["categories"][0].pop("keypoints")
        ann = _write(tmp_path, "a.json", data)
    elif case == "missing_image":
        data["images"][1]["file_name"] = "nowhere.jpg"
        ann = _write(tmp_path, "a.json", data)
    else:
        extra = ["TRAIN.LRR", "0.1"]
    run = tmp_path / "run"
    assert _train(tmp_path, run, "--epochs", "1", "--opts", *SMALL, *extra, ann=ann) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("akit: error: ") and message in err[0], err
    assert not run.exists()  # nothing written for a run that never started


def test_missing_default_validation_data_says_how_to_give_it(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """Without --val-ann the config's DATASET.VAL is used; where that file is not, the message says what to pass."""
    code = main(
        ["train", "--train-ann", str(ANN), "--train-images", str(COCO), "--outdir", str(tmp_path / "run"), "--quiet",
         "--epochs", "1", "--opts", *SMALL]
    )  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1, err
    assert "validation annotations not found" in err[0] and "--val-ann" in err[0] and "TRAIN.VAL_INTERVAL 0" in err[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--lr", "nan"], "TRAIN.LR must be a positive finite number up to 1e+30, got nan"),
        (["--lr", "inf"], "TRAIN.LR must be a positive finite number up to 1e+30, got inf"),
        (["--lr", "0"], "TRAIN.LR must be a positive finite number up to 1e+30, got 0.0"),
        (["--lr", "1e300"], "TRAIN.LR must be a positive finite number up to 1e+30, got 1e+300"),
        (["--seed", "-1"], "TRAIN.SEED must be a whole number from 0 to 2**63 - 1, got -1"),
        (["--opts", "TRAIN.LR", ".nan"], "TRAIN.LR must be a positive finite number up to 1e+30, got nan"),
        (["--opts", "TRAIN.SEED", "-5"], "TRAIN.SEED must be a whole number from 0 to 2**63 - 1, got -5"),
        (["--config", "LR_INF"], "TRAIN.LR must be a positive finite number up to 1e+30, got inf"),
    ],
)
def test_bad_learning_rate_or_seed_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, flags: list[str], message: str
) -> None:
    """``--lr``/``TRAIN.LR`` that is not a positive finite number (or so huge that float32 steps overflow) and a
    negative seed are refused up front, from the flags, ``--opts`` or a config file alike (they gave tracebacks, or
    with inf a non-finite last.pth)."""
    if flags == ["--config", "LR_INF"]:
        config = tmp_path / "lr_inf.yaml"
        config.write_text("TRAIN:\n  LR: .inf\n")
        flags = ["--config", str(config)]
    opts = ["--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0"]
    if flags[0] == "--opts":
        opts, flags = [*opts, *flags[1:]], []
    run = tmp_path / "run"
    assert _train(tmp_path, run, "--epochs", "1", *flags, *opts) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("akit: error: ") and message in err[0], err
    assert not run.exists()


def test_weights_that_turn_non_finite_stop_the_run_before_a_checkpoint_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    """The issue's ``--lr inf`` run, with a finite TRAIN.LR that passes the check: the first epoch's rate is
    1e-3 x inf (LR_STEP [0], LR_FACTOR inf). Its one step (12 people, batch 12) has a finite loss and leaves
    non-finite weights, so only a check of the weights after the step (the last one included) can see it; before
    that check the run exited 0 with a non-finite last.pth."""
    run = tmp_path / "run"
    inf_rate = ["TRAIN.VAL_INTERVAL", "0", "TRAIN.LR_STEP", "[0]", "TRAIN.LR_FACTOR", ".inf"]
    code = _train(tmp_path, run, "--epochs", "1", "--batch", "12", "--opts", *SMALL, *inf_rate)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err[-1].startswith("akit: error: weights are not finite after epoch 1, step 1 "), err
    assert "no checkpoint had been saved yet" in err[-1] and "Traceback" not in "\n".join(err)
    assert not (run / "last.pth").exists() and not (run / "best.pth").exists()


def test_resume_with_more_epochs_extends_a_finished_run(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """``--resume RUN --epochs N`` trains epochs 2..N of a finished 1-epoch run and ends where a straight N-epoch
    run ends (same losses, same weights); a finished run without more epochs, fewer epochs, another setting, or
    ``--init-from`` with ``--resume`` are refused in one line."""
    args = ["--batch", "6", "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0"]
    straight, run = tmp_path / "straight", tmp_path / "run"
    assert _train(tmp_path, straight, "--epochs", "3", *args) == 0
    assert _train(tmp_path, run, "--epochs", "1", *args) == 0
    capsys.readouterr()
    finished = (run / "last.pth").read_bytes()
    refusals = [
        (["--resume", str(run)], "that run has finished its 1 epochs; pass --epochs N (more than 1)"),
        (["--resume", str(run), "--epochs", "3", "--lr", "0.01"], "differs at TRAIN.LR (0.001 vs 0.01)"),
        (["--resume", str(run), "--epochs", "3", "--init-from", str(straight / "last.pth")],
         "--resume and --init-from do not go together"),
    ]  # fmt: skip
    for flags, message in refusals:
        assert main(["train", *flags, "--quiet"]) == 1, flags
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("akit: error: ") and message in err[0], (flags, err)
    assert (run / "last.pth").read_bytes() == finished
    assert main(["train", "--resume", str(run), "--epochs", "3", "--quiet"]) == 0
    assert "resuming" in capsys.readouterr().err
    rows, reference = read_metrics(run), read_metrics(straight)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert [r["loss"] for r in rows] == [r["loss"] for r in reference]  # epochs 2 and 3 trained as if never stopped
    a = torch.load(straight / "last.pth", weights_only=True)
    b = torch.load(run / "last.pth", weights_only=True)
    assert b["epoch"] == 3 and b["global_step"] == a["global_step"] == 6  # 12 people / batch 6 x 3 epochs
    for name, value in a["state_dict"].items():
        assert torch.equal(value, b["state_dict"][name]), name
    assert "END_EPOCH: 3" in (run / "config.yaml").read_text()
    assert main(["train", "--resume", str(run), "--epochs", "2", "--quiet"]) == 1  # shorter than done: refused
    assert "differs at TRAIN.END_EPOCH (3 vs 2)" in capsys.readouterr().err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_training_keeps_last_pth_and_says_which_epoch(tmp_path: Path, signum: int) -> None:
    """A real ``akit train`` process, stopped mid-run by Ctrl-C (SIGINT) or SIGTERM (timeout, docker stop, Slurm):
    both print "interrupted, last.pth kept at epoch N" for the epoch that last.pth holds and exit 130."""
    run = tmp_path / "run"
    launcher = tmp_path / "akit_tiny.py"  # the akit CLI with TinyPoseTest registered
    launcher.write_text("import sys\nimport tests.engine.tiny_model\nfrom alphapose_kit.cli.app import main\n"
                        "sys.exit(main())\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = ["train", "--train-ann", str(ANN), "--train-images", str(COCO), "--outdir", str(run), "--quiet",
            "--device", "cpu", "--epochs", "1000", "--batch", "6", "--opts", *SMALL, "TRAIN.VAL_INTERVAL", "0",
            "TRAIN.NUM_WORKERS", "0"]  # fmt: skip
    proc = subprocess.Popen([sys.executable, str(launcher), *args], env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300  # the first epoch: a few seconds, longer on a busy machine
        while not (run / "metrics.csv").is_file() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert proc.poll() is None and (run / "metrics.csv").is_file(), "no finished epoch to signal after"
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err[-2000:]
    kept = torch.load(run / "last.pth", weights_only=True)["epoch"]
    found = re.findall(r"^akit: interrupted, last\.pth kept at epoch (\d+)", err, re.M)
    assert found == [str(kept)] and kept >= 1, err[-2000:]
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "akit: error: interrupted"
