"""Config loading: AlphaPose's schema, akit's shipped configs, --opts overrides and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from alphapose_kit.config import get_default_config, load_config, resolve_config_path, shipped_configs_dir
from alphapose_kit.errors import ConfigError

CONFIG_DIR = shipped_configs_dir()

SHIPPED = sorted(CONFIG_DIR.glob("**/*.yaml"))

# The layout of AlphaPose's configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml (keys, nesting and values as the
# original writes them: quoted strings, ints where the schema has floats), restated here as test input.
ALPHAPOSE_DCN_STYLE = {
    "DATASET": {
        "TRAIN": {
            "TYPE": "Mscoco",
            "ROOT": "./data/coco/",
            "IMG_PREFIX": "train2017",
            "ANN": "annotations/person_keypoints_train2017.json",
            "AUG": {
                "FLIP": True,
                "ROT_FACTOR": 45,
                "SCALE_FACTOR": 0.35,
                "NUM_JOINTS_HALF_BODY": 8,
                "PROB_HALF_BODY": 0.3,
            },
        },
        "VAL": {"TYPE": "Mscoco", "ROOT": "./data/coco/", "IMG_PREFIX": "val2017", "ANN": "a.json"},
        "TEST": {
            "TYPE": "Mscoco_det",
            "ROOT": "./data/coco/",
            "IMG_PREFIX": "val2017",
            "DET_FILE": "./exp/json/test_det_yolo.json",
            "ANN": "a.json",
        },
    },
    "DATA_PRESET": {"TYPE": "simple", "SIGMA": 2, "NUM_JOINTS": 17, "IMAGE_SIZE": [256, 192], "HEATMAP_SIZE": [64, 48]},
    "MODEL": {
        "TYPE": "FastPose",
        "PRETRAINED": "",
        "TRY_LOAD": "",
        "NUM_DECONV_FILTERS": [256, 256, 256],
        "NUM_LAYERS": 50,
        "DCN": {"MODULATED": False, "DEFORM_GROUP": 1, "FALLBACK_ON_STRIDE": False},
        "STAGE_WITH_DCN": [False, True, True, True],
    },
    "LOSS": {"TYPE": "MSELoss"},
    "DETECTOR": {
        "NAME": "yolo",
        "CONFIG": "detector/yolo/cfg/yolov3-spp.cfg",
        "WEIGHTS": "detector/yolo/data/yolov3-spp.weights",
        "NMS_THRES": 0.6,
        "CONFIDENCE": 0.05,
    },
    "TRAIN": {
        "WORLD_SIZE": 4,
        "BATCH_SIZE": 32,
        "BEGIN_EPOCH": 0,
        "END_EPOCH": 270,
        "OPTIMIZER": "adam",
        "LR": 0.001,
        "LR_FACTOR": 0.1,
        "LR_STEP": [170, 200],
        "DPG_MILESTONE": 210,
        "DPG_STEP": [230, 250],
    },
}


def write_yaml(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_alphapose_style_yaml_loads_unchanged(tmp_path: Path) -> None:
    cfg = load_config(write_yaml(tmp_path / "256x192_res50_lr1e-3_2x-dcn.yaml", ALPHAPOSE_DCN_STYLE))
    assert cfg.MODEL.STAGE_WITH_DCN == [False, True, True, True]
    assert cfg.DATASET.TRAIN.AUG.PROB_HALF_BODY == pytest.approx(0.3)
    assert cfg.DATA_PRESET.HEATMAP_SIZE == [64, 48]
    assert cfg.TRAIN.DPG_STEP == [230, 250]
    assert cfg.MODEL.CONV_DIM == 128  # absent in the file -> AlphaPose's default
    assert cfg.is_frozen()


def test_concat_dataset_lists_and_int_for_float(tmp_path: Path) -> None:
    data = {
        "DATASET": {
            "TRAIN": {"TYPE": "ConcatDataset", "ROOT": ["./data/halpe/", "./data/coco/"], "IMG_PREFIX": ["a", "b"]}
        },
        "DATA_PRESET": {"NUM_JOINTS": 136, "LOSS_TYPE": "L1JointRegression"},
        "TRAIN": {"LR": 1},
    }
    cfg = load_config(write_yaml(tmp_path / "x.yaml", data))
    assert cfg.DATASET.TRAIN.ROOT == ["./data/halpe/", "./data/coco/"]
    assert isinstance(cfg.TRAIN.LR, float) and cfg.TRAIN.LR == 1.0


@pytest.mark.parametrize("path", SHIPPED, ids=[str(p.relative_to(CONFIG_DIR)) for p in SHIPPED])
def test_every_shipped_config_loads(path: Path) -> None:
    cfg = load_config(path)
    assert cfg.DATA_PRESET.IMAGE_SIZE == [256, 192] or "detector" in path.parts


def test_shipped_configs_cover_every_model() -> None:
    names = {str(p.relative_to(CONFIG_DIR)) for p in SHIPPED}
    for expected in (
        "coco/fastpose_res50_256x192.yaml",
        "coco/fastpose_dcn_res50_256x192.yaml",
        "coco/fastpose_duc_res152_256x192.yaml",
        "coco/fastpose_duc_shuffle_res50_256x192.yaml",
        "coco/simplepose_res50_256x192.yaml",
        "coco/hrnet_w32_256x192.yaml",
        "coco/hrnet_w48_256x192.yaml",
        "halpe26/fastpose_res50_256x192.yaml",
        "detector/yolov3-spp.yaml",
        "detector/yolov5s.yaml",
    ):
        assert expected in names


def test_config_by_name_and_opts() -> None:
    assert resolve_config_path("coco/fastpose_res50_256x192") == CONFIG_DIR / "coco/fastpose_res50_256x192.yaml"
    cfg = load_config(
        "coco/fastpose_res50_256x192", opts=["MODEL.NUM_LAYERS", "152", "MODEL.STAGE_WITH_DCN", "[0,1,1,1]"]
    )
    assert cfg.MODEL.NUM_LAYERS == 152
    assert cfg.MODEL.STAGE_WITH_DCN == [0, 1, 1, 1]


def test_unknown_key_names_key_file_and_closest(tmp_path: Path) -> None:
    bad = write_yaml(tmp_path / "typo.yaml", {"MODEL": {"NUM_LAYER": 50}})
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    message = str(err.value)
    assert "MODEL.NUM_LAYER" in message and str(bad) in message and "MODEL.NUM_LAYERS" in message
    assert "\n" not in message


def test_unknown_top_level_section_and_opts_typo() -> None:
    with pytest.raises(ConfigError, match="did you mean DATA_PRESET.NUM_JOINTS"):
        load_config(None, opts=["DATA_PRESET.NUM_JOINT", "26"])
    with pytest.raises(ConfigError, match="did you mean TRAIN"):
        load_config(None, opts=["TRIAN.LR", "0.1"])


def test_bad_values_and_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be int"):
        load_config(None, opts=["MODEL.NUM_LAYERS", "fifty"])
    with pytest.raises(ConfigError, match="KEY VALUE pairs"):
        load_config(None, opts=["MODEL.NUM_LAYERS"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("MODEL: [unclosed\n")
    with pytest.raises(ConfigError, match="not a readable YAML"):
        load_config(broken)
    with pytest.raises(ConfigError, match="NUM_JOINTS must be positive"):
        load_config(None, opts=["DATA_PRESET.NUM_JOINTS", "0"])


def test_defaults_are_fresh_copies() -> None:
    a = get_default_config()
    a.MODEL.NUM_LAYERS = 101
    assert get_default_config().MODEL.NUM_LAYERS == 50


ORIGINAL_CONFIGS = Path("/work/.mirror/MVIG-SJTU+AlphaPose/repo")


@pytest.mark.skipif(not ORIGINAL_CONFIGS.is_dir(), reason="no local mirror of the original AlphaPose repository")
def test_original_alphapose_configs_load(tmp_path: Path) -> None:
    import subprocess

    listing = subprocess.run(
        ["git", "-C", str(ORIGINAL_CONFIGS), "ls-tree", "-r", "--name-only", "HEAD", "configs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    yamls = [p for p in listing if p.endswith(".yaml")]
    assert len(yamls) > 20
    for name in yamls:
        text = subprocess.run(
            ["git", "-C", str(ORIGINAL_CONFIGS), "show", f"HEAD:{name}"], capture_output=True, text=True, check=True
        ).stdout
        path = tmp_path / Path(name).name
        path.write_text(text)
        load_config(path)


def test_input_size_must_fit_the_stride() -> None:
    with pytest.raises(ConfigError, match="multiples of 32"):
        load_config(None, opts=["DATA_PRESET.IMAGE_SIZE", "[250, 192]"])
