"""Regenerate videopose3d_golden.npz by running VideoPose3D's OWN model and test-time generator on our inputs.

No VideoPose3D code is in this repository (CC BY-NC): the two files are extracted outside it and imported from there.

    git -C <VideoPose3D git dir> show HEAD:common/model.py > /tmp/vp3d/model.py
    git -C <VideoPose3D git dir> show HEAD:common/generators.py > /tmp/vp3d/generators.py
    python tests/golden/make_videopose3d_golden.py /tmp/vp3d

For two architectures (27 and 243 frames), the original ``TemporalModel`` with seeded weights (tests/models/
golden_families.seeded_state_dict), eval mode, is run on a synthetic COCO-17 walk the way its run.py evaluates a
custom video: coordinates normalised by camera.py's rule, the ``UnchunkedGenerator`` padding the sequence by edge
frames and appending the mirrored copy, the mirrored prediction flipped back (x negated, left/right joints swapped)
and the two averaged. Without the flip, the plain prediction is stored as well.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.models.golden_families import seeded_state_dict  # noqa: E402

OUT = Path(__file__).with_name("videopose3d_golden.npz")
ARCHITECTURES = {"f27": (3, 3, 3), "f243": (3, 3, 3, 3, 3)}
COCO_LEFT, COCO_RIGHT = [1, 3, 5, 7, 9, 11, 13, 15], [2, 4, 6, 8, 10, 12, 14, 16]  # VideoPose3D's COCO symmetry
H36M_LEFT, H36M_RIGHT = [4, 5, 6, 11, 12, 13], [1, 2, 3, 14, 15, 16]  # its Human3.6M skeleton's sides
WIDTH, HEIGHT = 1280, 720


def walking_keypoints(frames: int = 50) -> np.ndarray:
    """A person crossing the frame with swinging limbs: (frames, 17, 2) COCO-17 pixels (seeded jitter)."""
    rng = np.random.RandomState(7)
    t = np.arange(frames)[:, None]
    base = rng.uniform([-60, -200], [60, 200], (17, 2))
    swing = np.sin(t * 0.3 + np.arange(17)[None] * 0.7)[..., None] * np.array([25.0, 8.0])
    return (np.array([300.0, 380.0]) + base[None] + swing + np.concatenate([t * 12.0, 0 * t], 1)[:, None]).astype(
        np.float64
    ) + rng.normal(0, 1.0, (frames, 17, 2))


def main(vp3d: str) -> None:
    sys.path.insert(0, vp3d)
    from generators import UnchunkedGenerator
    from model import TemporalModel

    torch.set_num_threads(1)
    keypoints = walking_keypoints()
    normalised = keypoints / WIDTH * 2 - [1, HEIGHT / WIDTH]  # camera.py's normalize_screen_coordinates
    out: dict[str, np.ndarray] = {"keypoints": keypoints, "size": np.array([WIDTH, HEIGHT])}
    for name, widths in ARCHITECTURES.items():
        model = TemporalModel(17, 2, 17, filter_widths=list(widths), causal=False, dropout=0.25, channels=256)
        model.load_state_dict(seeded_state_dict(model.state_dict()), strict=True)
        model.eval()
        pad = (model.receptive_field() - 1) // 2
        for flip in (True, False):
            generator = UnchunkedGenerator(
                None, None, [normalised], pad=pad, causal_shift=0, augment=flip,
                kps_left=COCO_LEFT, kps_right=COCO_RIGHT, joints_left=H36M_LEFT, joints_right=H36M_RIGHT,
            )  # fmt: skip
            _, _, batch = next(generator.next_epoch())
            with torch.no_grad():
                predicted = model(torch.from_numpy(batch.astype("float32")))
                if flip:
                    predicted[1, :, :, 0] *= -1
                    predicted[1, :, H36M_LEFT + H36M_RIGHT] = predicted[1, :, H36M_RIGHT + H36M_LEFT]
                    predicted = torch.mean(predicted, dim=0, keepdim=True)
            out[f"{name}__{'flip' if flip else 'plain'}"] = predicted.squeeze(0).numpy()
        print(name, "receptive field", model.receptive_field())
    np.savez_compressed(OUT, **out)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(sys.argv[1])
