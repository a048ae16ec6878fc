"""scripts/bench_infer.py runs and prints every row the README quotes (a smoke run; no timing is asserted)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.paths import SCRIPTS

SCRIPT = SCRIPTS / "bench_infer.py"


def test_bench_infer_prints_stage_table_ratio_and_pnms_rows() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--frames", "6", "--detector", "yolov5n", "--max-det", "1", "--device", "cpu",
         "--det-batch", "2", "--batch", "4"],
        capture_output=True, text=True, timeout=600, check=True,
    )  # fmt: skip
    out = result.stdout
    assert "6 frames of people_walking.mp4" in out
    for row in ("read (decode video)", "detect", "crop", "pose forward", "decode heatmaps", "pose NMS", "write JSON",
                "end to end", "networks only (detector + pose forward)"):  # fmt: skip
        assert f"| {row} |" in out, row
    ratio = float(re.search(r"ratio: ([0-9.]+)", out).group(1))
    assert 0 < ratio <= 1.5
    assert re.search(r"\| 200 \| [0-9.]+ \|", out)
