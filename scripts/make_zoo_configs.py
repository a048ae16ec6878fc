"""Write akit's shipped configs for AlphaPose's whole-body, hand, HarDNet and dense models from the original's YAMLs.

    python scripts/make_zoo_configs.py <AlphaPose checkout>      # writes configs/<set>/<name>.yaml

Each config keeps the original's dataset, preset, model, loss and training values (read with yaml.safe_load, the
facts of each recipe) under a header naming its source, and names akit's default detector: the original's demo takes
its detector thresholds from the detector's own config, never from the pose config's DETECTOR section, and so does
akit (configs/detector/). Every written file is loaded back through akit's config loader.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from alphapose_kit.config import load_config  # noqa: E402

# akit config (below configs/) <- original config (below the AlphaPose checkout), with a one-line description
CONFIGS = {
    "halpe136/fastpose_res50_256x192.yaml": (
        "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x.yaml",
        "Fast Pose, Halpe-136, heatmap",
    ),
    "halpe136/fastpose_res50_regression_256x192.yaml": (
        "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "Fast Pose, Halpe-136, symmetric integral regression",
    ),
    "halpe136/fastpose_dcn_res50_regression_256x192.yaml": (
        "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml",
        "Fast Pose (DCN), Halpe-136, symmetric integral regression",
    ),
    "halpe136/fastpose_dcn_res50_combined_256x192.yaml": (
        "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml",
        "Fast Pose (DCN), Halpe-136, combined loss (body heatmaps, face and hands regressed)",
    ),
    "halpe136/fastpose_duc_res152_regression_256x192.yaml": (
        "configs/halpe_136/resnet/256x192_res152_lr1e-3_1x-duc.yaml",
        "Fast Pose (DUC), SE-ResNet-152, Halpe-136, symmetric integral regression",
    ),
    "halpe136/multi_domain_fastpose_res50_regression_256x192.yaml": (
        "configs/halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "Fast Pose, multi-domain Halpe + COCO-WholeBody, 136 joints, regression",
    ),
    "halpe136/multi_domain_fastpose_dcn_res50_combined_256x192.yaml": (
        "configs/halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml",
        "Fast Pose (DCN), multi-domain Halpe + COCO-WholeBody, 136 joints, combined loss",
    ),
    "coco_wholebody/fastpose_res50_regression_256x192.yaml": (
        "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "Fast Pose, COCO-WholeBody-133, regression",
    ),
    "coco_wholebody/fastpose_dcn_res50_regression_256x192.yaml": (
        "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml",
        "Fast Pose (DCN), COCO-WholeBody-133, regression",
    ),
    "coco_wholebody/fastpose_res50_combined_256x192.yaml": (
        "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-combined.yaml",
        "Fast Pose, COCO-WholeBody-133, combined loss",
    ),
    "coco_wholebody/fastpose_dcn_res50_combined_256x192.yaml": (
        "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml",
        "Fast Pose (DCN), COCO-WholeBody-133, combined loss",
    ),
    "coco_wholebody/fastpose_duc_res152_regression_256x192.yaml": (
        "configs/coco_wholebody/resnet/256x192_res152_lr1e-3_1x-duc.yaml",
        "Fast Pose (DUC), SE-ResNet-152, COCO-WholeBody-133, regression",
    ),
    "halpe68/fastpose_dcn_res50_combined_256x192.yaml": (
        "configs/halpe_68_noface/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml",
        "Fast Pose (DCN), Halpe-68 (body, feet, hands; no face), combined loss",
    ),
    "hand21/fastpose_dcn_res50_regression_256x192.yaml": (
        "configs/single_hand/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml",
        "Fast Pose (DCN), one hand (21 joints; the box is a hand's), regression",
    ),
    "halpe26/fastpose_res50_regression_256x192.yaml": (
        "configs/halpe_26/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "Fast Pose, Halpe-26, regression",
    ),
    "halpe26/fastpose_dcn_res50_regression_256x192.yaml": (
        "configs/halpe_26/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml",
        "Fast Pose (DCN), Halpe-26, regression",
    ),
    "coco/hardnet68_256x192.yaml": (
        "configs/coco/hardnet/256x192_hard68_lr1e-3_1x.yaml",
        "HarDNet-68 pose network, COCO-17",
    ),
    "coco/hardnet85_256x192.yaml": (
        "configs/coco/hardnet/256x192_hard85_lr1e-3_1x.yaml",
        "HarDNet-85 pose network, COCO-17",
    ),
    "coco/fastpose_duc_dense_dcn_res50_256x192.yaml": (
        "configs/dense_coco/resnet50/256x192_adam_lr1e-3-duc-dcn_1x_crop.yaml",
        "Fast Pose DUC-Dense (DCN): COCO-17 plus a 32-point dense branch (49 outputs, 17 decoded)",
    ),
    "coco/fastpose_res50_regression_256x192.yaml": (
        "configs/coco/resnet/256x192_res50_lr1e-3_2x-regression.yaml",
        "Fast Pose, COCO-17, symmetric integral regression",
    ),
}


class _Dumper(yaml.SafeDumper):
    """Block mappings; lists of plain values on one line (``IMAGE_SIZE: [256, 192]``), as akit's configs are written."""


def _list(dumper: yaml.SafeDumper, values: list) -> yaml.Node:
    inline = all(not isinstance(v, (dict, list)) for v in values)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", values, flow_style=inline)


_Dumper.add_representer(list, _list)


def main(original: Path) -> None:
    for target, (source, description) in CONFIGS.items():
        values = yaml.safe_load((original / source).read_text())
        values["DETECTOR"] = {"NAME": "yolov3-spp"}
        header = f"# {description} (AlphaPose {source})\n"
        path = REPO / "configs" / target
        path.parent.mkdir(exist_ok=True)
        path.write_text(header + yaml.dump(values, Dumper=_Dumper, sort_keys=False, default_flow_style=False))
        load_config(path)
        print(f"wrote {path.relative_to(REPO)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_zoo_configs.py ALPHAPOSE_CHECKOUT")
    main(Path(sys.argv[1]))
