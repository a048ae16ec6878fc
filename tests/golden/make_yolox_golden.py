"""Regenerate yolox_golden.npz by running the ORIGINAL AlphaPose YOLOX detector (see README.md).

No AlphaPose code is in this repository: its detector folder is extracted outside it and imported from there.

    cd <AlphaPose git dir> && for f in $(git ls-tree -r --name-only c60106d1 detector/yolox detector/yolox_api.py \\
        detector/apis.py); do mkdir -p /tmp/apdet/$(dirname $f); git show c60106d1:$f > /tmp/apdet/$f; done
    python tests/golden/make_yolox_golden.py /tmp/apdet

For YOLOX-Nano (depthwise) and YOLOX-S: the original's ``YOLOXDetector`` (detector/yolox_api.py, AlphaPose's YOLOX
settings), its Exp's model with the weights of tests/detectors/yolox_golden.py loaded strictly, then on two
shared COCO images its own ``image_preprocess`` and ``images_detection`` (post-processing, the re-NMS of more than
100 boxes, the mapping back to the image). The golden keeps a sample of the network's rows, per-column sums, and
the boxes and scores the original returns.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import torch

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
from tests.detectors.yolox_golden import IMAGES, ROW_STEP, VARIANTS, golden_state  # noqa: E402
from tests.paths import COCO  # noqa: E402


def main(root: Path, out: Path) -> None:
    torch.set_num_threads(1)
    sys.path.insert(0, str(root))
    import detector.yolox.yolox.models as models
    from detector.yolox_api import YOLOXDetector

    sys.modules["yolox.models"] = models  # the nano Exp imports the pip package's name for the same modules
    arrays: dict[str, np.ndarray] = {}
    for variant in VARIANTS:
        det = YOLOXDetector({"MODEL_NAME": f"yolox-{variant}"}, SimpleNamespace(device="cpu", gpus=[-1]))
        model = det.exp.get_model()
        model.load_state_dict(golden_state(variant, model.state_dict()), strict=True)
        det.model = model.eval()
        for name in IMAGES:
            image = cv2.imread(str(COCO / name))
            inputs = det.image_preprocess(image)
            with torch.no_grad():
                rows = model(inputs)[0].double()
            height, width = image.shape[:2]
            dets = det.images_detection(inputs, torch.FloatTensor([[width, height, width, height]]))
            key = f"{variant}__{Path(name).stem}"
            if isinstance(dets, int):
                sys.exit(f"{key}: the original found no box; raise the OFFSETS of tests/detectors/yolox_golden.py")
            arrays[f"{key}__rows"] = rows[::ROW_STEP].float().numpy()
            arrays[f"{key}__sum"] = rows.sum(0).numpy()
            arrays[f"{key}__sum_sq"] = (rows * rows).sum(0).numpy()
            arrays[f"{key}__boxes"] = (
                dets[:, 1:5].numpy() if not isinstance(dets, int) else np.zeros((0, 4), np.float32)
            )
            arrays[f"{key}__scores"] = dets[:, 5].numpy() if not isinstance(dets, int) else np.zeros(0, np.float32)
            print(f"{key}: {len(arrays[f'{key}__boxes'])} boxes")
    np.savez_compressed(out, **arrays)  # type: ignore[arg-type]  # the stub types every keyword as allow_pickle
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: make_yolox_golden.py ALPHAPOSE_DETECTOR_ROOT [OUT_FILE]")
    default = Path(__file__).parent / "yolox_golden.npz"
    main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]) if len(sys.argv) == 3 else default)
