"""CI's wheel check: build the wheel, install it (no deps) into an empty folder, and run it from outside the repo.

Proves the wheel carries everything it needs (the shipped YAML configs above all): ``akit models list``, loading
the default config by name, and building the default model from it must work from that folder alone.
Usage: python scripts/check_wheel.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import sys
import alphapose_kit
from alphapose_kit.config import load_config, shipped_configs_dir
from alphapose_kit.models.loader import load_pose_model
assert alphapose_kit.__file__.startswith(sys.argv[1]), alphapose_kit.__file__
shipped = sorted(p.relative_to(shipped_configs_dir()).as_posix() for p in shipped_configs_dir().rglob("*.yaml"))
cfg = load_config("coco/fastpose_res50_256x192")
model = load_pose_model(cfg)
print(f"wheel ok: {len(shipped)} configs, {cfg.MODEL.TYPE} with {sum(p.numel() for p in model.parameters())} params")
"""


def run(*command: str, cwd: Path, env: dict[str, str]) -> str:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"check_wheel: {' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        env = dict(os.environ)
        run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp, str(REPO),
            cwd=REPO, env=env)  # fmt: skip
        wheel = next(tmp_path.glob("alphapose_kit-*.whl"))
        target = tmp_path / "site"
        run(sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel),
            cwd=tmp_path, env=env)  # fmt: skip
        env["PYTHONPATH"] = str(target)
        outside = tmp_path / "elsewhere"
        outside.mkdir()
        listing = run(sys.executable, "-m", "alphapose_kit", "models", "list", cwd=outside, env=env)
        if "fastpose_res50_256x192" not in listing:
            sys.exit(f"check_wheel: akit models list from the wheel lists no pose model:\n{listing}")
        print(run(sys.executable, "-c", PROBE, str(target), cwd=outside, env=env).strip())
        print(f"check_wheel: {wheel.name} installs and runs from {outside}")


if __name__ == "__main__":
    main()
