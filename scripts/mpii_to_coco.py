"""Convert MPII Human Pose annotations (MMPose's JSON list) to a COCO keypoint file, an akit keypoint set and a
training config: the worked example of training akit on a custom keypoint set (16 joints).

Input records are ``{"image", "joints" (16 x [x, y]), "joints_vis" (16 x 0/1), "center" [x, y], "scale"}`` (MPII's
own fields as MMPose stores them; unlabelled joints are ``[-1, -1]``). Output, in ``--out``:

- ``mpii_coco.json``: one COCO image per file (``id`` = the file stem as an integer when it is one), one annotation
  per person: ``keypoints`` ``[x, y, v]`` (v = 2 for labelled joints, 0 with x = y = 0 otherwise), ``num_keypoints``,
  ``bbox`` = MPII's person square (side ``200 * scale`` around ``center``, after MMPose's correction of MPII's
  1-based centre and its ``+15 * scale`` downward shift) clipped to the image, ``area`` = the box area;
- ``mpii16.json``: the keypoint set (names, flip pairs, skeleton, upper body for the half-body augmentation, and
  MMPose's MPII OKS sigmas, "adapted from COCO", so that COCO AP can be computed);
- ``config.yaml``: ``--config`` with 16 joints, this keypoint set and these files as train and validation sets.

Usage: python scripts/mpii_to_coco.py --mpii-json test_mpii.json --images DIR --out data/mpii_coco
       [--config coco/fastpose_res50_256x192]
then:  akit train --config data/mpii_coco/config.yaml
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import cv2

from alphapose_kit.config import dump_config, load_config

MPII_JOINTS = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle", "pelvis", "thorax",
    "upper_neck", "head_top", "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow",
    "left_wrist",
)  # fmt: skip
FLIP_PAIRS = ((0, 5), (1, 4), (2, 3), (10, 15), (11, 14), (12, 13))
SKELETON = (
    (0, 1), (1, 2), (2, 6), (6, 3), (3, 4), (4, 5), (6, 7), (7, 8), (8, 9),
    (8, 12), (12, 11), (11, 10), (8, 13), (13, 14), (14, 15),
)  # fmt: skip
UPPER_BODY = tuple(range(7, 16))  # thorax, neck, head, arms
# MMPose's configs/_base_/datasets/mpii.py ("adapted from COCO")
SIGMAS = (0.089, 0.083, 0.107, 0.107, 0.083, 0.089, 0.026, 0.026, 0.026, 0.026, 0.062, 0.072, 0.179, 0.179, 0.072,
          0.062)  # fmt: skip


def person_box(center: list[float], scale: float, width: int, height: int) -> list[float]:
    """MPII's person square as COCO ``[x, y, w, h]``, clipped to the image (MMPose's centre correction first)."""
    cx, cy = center[0] - 1, center[1] - 1 + 15 * scale
    half = 100 * scale
    x1, y1 = max(cx - half, 0.0), max(cy - half, 0.0)
    x2, y2 = min(cx + half, width - 1.0), min(cy + half, height - 1.0)
    return [round(x1, 2), round(y1, 2), round(x2 - x1, 2), round(y2 - y1, 2)]


def convert(records: list[dict[str, Any]], image_dir: Path) -> dict[str, Any]:
    """The COCO keypoint dict of MPII ``records`` whose images lie in ``image_dir``."""
    images: dict[str, dict[str, Any]] = {}
    annotations = []
    for record in records:
        name = record["image"]
        if name not in images:
            picture = cv2.imread(str(image_dir / name))
            if picture is None:
                raise SystemExit(f"cannot read image {image_dir / name}")
            stem = Path(name).stem
            image_id = int(stem) if stem.isdigit() else len(images) + 1
            images[name] = {"id": image_id, "file_name": name, "height": picture.shape[0], "width": picture.shape[1]}
        image = images[name]
        keypoints: list[float] = []
        for (x, y), labelled in zip(record["joints"], record["joints_vis"], strict=True):
            keypoints += [float(x), float(y), 2] if labelled else [0.0, 0.0, 0]
        box = person_box(record["center"], float(record["scale"]), image["width"], image["height"])
        annotations.append(
            {
                "id": len(annotations) + 1,
                "image_id": image["id"],
                "category_id": 1,
                "iscrowd": 0,
                "keypoints": keypoints,
                "num_keypoints": int(sum(1 for v in record["joints_vis"] if v)),
                "bbox": box,
                "area": round(box[2] * box[3], 2),
            }
        )
    category = {
        "id": 1,
        "name": "person",
        "supercategory": "person",
        "keypoints": list(MPII_JOINTS),
        "skeleton": [[a + 1, b + 1] for a, b in SKELETON],  # COCO's skeleton is 1-based
    }
    return {"images": list(images.values()), "annotations": annotations, "categories": [category]}


def keypoint_set() -> dict[str, Any]:
    """The akit keypoint-set JSON of MPII's 16 joints."""
    return {
        "name": "mpii16",
        "names": list(MPII_JOINTS),
        "flip_pairs": [list(p) for p in FLIP_PAIRS],
        "skeleton": [list(e) for e in SKELETON],
        "sigmas": list(SIGMAS),
        "upper_body": list(UPPER_BODY),
    }


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mpii-json", required=True, help="MPII annotations (MMPose's JSON list)")
    parser.add_argument("--images", required=True, help="folder of the MPII images")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--config", default="coco/fastpose_res50_256x192", help="base config of the model")
    args = parser.parse_args(argv)

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    images = Path(args.images).resolve()
    coco = convert(json.loads(Path(args.mpii_json).read_text()), images)
    ann = out / "mpii_coco.json"
    ann.write_text(json.dumps(coco))
    kps = out / "mpii16.json"
    kps.write_text(json.dumps(keypoint_set(), indent=1))
    overrides = ["DATA_PRESET.NUM_JOINTS", "16", "DATA_PRESET.KEYPOINT_SET", str(kps)]
    for split in ("TRAIN", "VAL"):
        overrides += [f"DATASET.{split}.ROOT", "''", f"DATASET.{split}.ANN", str(ann)]
        overrides += [f"DATASET.{split}.IMG_PREFIX", str(images)]
    cfg = load_config(args.config, overrides)
    (out / "config.yaml").write_text(dump_config(cfg))
    print(f"{len(coco['annotations'])} people on {len(coco['images'])} images -> {ann}, {kps}, {out / 'config.yaml'}")
    return out


if __name__ == "__main__":
    main()
