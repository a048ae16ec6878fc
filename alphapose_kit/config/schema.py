"""AlphaPose's config schema (DATASET, DATA_PRESET, MODEL, LOSS, DETECTOR, TRAIN) with its defaults, on yacs.

Every key the original repository's configs use is declared here, so an AlphaPose YAML file loads unchanged;
akit's own additions are marked.
"""

from __future__ import annotations

from typing import Any

from yacs.config import CfgNode


def _node(**entries: Any) -> CfgNode:
    return CfgNode(entries)


def _dataset_split() -> CfgNode:
    return _node(
        TYPE="Mscoco",
        ROOT="",
        IMG_PREFIX="",
        ANN="",
        DET_FILE="",
        SET_LIST=None,
        AUG=_node(
            FLIP=True,
            ROT_FACTOR=40,
            SCALE_FACTOR=0.3,
            NUM_JOINTS_HALF_BODY=8,
            PROB_HALF_BODY=-1.0,
            ROT_PROB=0.6,  # akit: AlphaPose hard-codes 0.6
        ),
    )


def _hrnet_stage(modules: int, channels: list[int]) -> CfgNode:
    return _node(
        NUM_MODULES=modules,
        NUM_BRANCHES=len(channels),
        NUM_BLOCKS=[4] * len(channels),
        NUM_CHANNELS=channels,
        BLOCK="BASIC",
        FUSE_METHOD="SUM",
        NUM_CONV=0,  # FastPose_DUC reads STAGEn.NUM_CONV from the same nodes
    )


def get_default_config() -> CfgNode:
    """A fresh copy of the full schema with its defaults (FastPose SE-ResNet-50, COCO-17, 256x192)."""
    train = _dataset_split()
    train.ROOT, train.IMG_PREFIX = "./data/coco/", "train2017"
    train.ANN = "annotations/person_keypoints_train2017.json"
    val = _dataset_split()
    val.ROOT, val.IMG_PREFIX = "./data/coco/", "val2017"
    val.ANN = "annotations/person_keypoints_val2017.json"
    test = _dataset_split()
    test.TYPE, test.ROOT, test.IMG_PREFIX = "Mscoco_det", "./data/coco/", "val2017"
    test.ANN, test.DET_FILE = "annotations/person_keypoints_val2017.json", "./exp/json/test_det_yolo.json"

    stage1 = _node(NUM_CONV=4)
    stage2 = _hrnet_stage(1, [32, 64])
    stage2.NUM_CONV = 2
    stage3 = _hrnet_stage(4, [32, 64, 128])
    stage3.NUM_CONV = 1
    stage4 = _hrnet_stage(3, [32, 64, 128, 256])

    cfg = _node(
        DATASET=_node(
            TRAIN=train,
            VAL=val,
            TEST=test,
            # keys used by the original's SMPL / mixed-dataset configs, accepted so those files load
            DATASET="",
            SET_LIST=None,
            PROTOCOL=2,
            FLIP=True,
            ROT_FACTOR=30,
            SCALE_FACTOR=0.3,
            NUM_JOINTS_HALF_BODY=8,
            PROB_HALF_BODY=-1.0,
            COLOR_FACTOR=0.2,
            OCCLUSION=True,
        ),
        DATA_PRESET=_node(
            TYPE="simple",
            SIGMA=2,
            NUM_JOINTS=17,
            NUM_JOINTS_DENSE=0,
            IMAGE_SIZE=[256, 192],
            HEATMAP_SIZE=[64, 48],
            LOSS_TYPE="",
            NORM_TYPE="",
            KEYPOINT_SET="",  # akit: a registered set name or a JSON file; empty = from dataset type / joints
        ),
        MODEL=_node(
            TYPE="FastPose",
            PRETRAINED="",
            TRY_LOAD="",
            NUM_DECONV_FILTERS=[256, 256, 256],
            NUM_LAYERS=50,
            CONV_DIM=128,
            BACKBONE="se-resnet",
            FINAL_CONV_KERNEL=1,
            PRETRAINED_LAYERS=["*"],
            PRUNED_WIDTHS=[],  # akit: [module, in, out] of layers a pruned network narrowed (models/widths.py)
            DCN=_node(MODULATED=False, DEFORM_GROUP=1, FALLBACK_ON_STRIDE=False),
            STAGE_WITH_DCN=[False, False, False, False],
            STAGE1=stage1,
            STAGE2=stage2,
            STAGE3=stage3,
            STAGE4=stage4,
            # keys of the original's SMPL / dense / TensorRT configs
            INIT_WEIGHTS="",
            NUM_JOINTS=0,
            DOWN_RATIO=4,
            TRT=False,
            FOCAL_LENGTH=1000,
            IMAGE_SIZE=[256, 192],
            HEATMAP_SIZE=[64, 48],
            EXTRA=_node(AUGMENT="none", BACKBONE="resnet", CROP="padding", DEPTH_DIM=64, PRESET="", SIGMA=2),
            POST=_node(NORM_TYPE="softmax"),
        ),
        LOSS=_node(
            TYPE="MSELoss",
            NORM_TYPE="",
            OUTPUT_3D=False,
            LOSS_1=_node(TYPE="MSELoss"),
            LOSS_2=_node(TYPE="L1JointRegression", NORM_TYPE="sigmoid", OUTPUT_3D=False),
            HAND_WEIGHT=1.0,  # akit: Combined's hand L1 factor ("10 hand weight" models of AlphaPose's zoo)
            ELEMENTS=_node(
                BETA_REG_WEIGHT=0.0,
                BETA_WEIGHT=1.0,
                LEAF_REG_WEIGHT=0.0,
                PHI_REG_WEIGHT=0.0001,
                THETA_WEIGHT=0.01,
                TWIST_WEIGHT=0.01,
                UVD24_WEIGHT=1.0,
                VERTICE_WEIGHT=0.0,
                XYZ24_WEIGHT=0.0,
                XYZ_SMPL17_WEIGHT=0.0,
                XYZ_SMPL24_WEIGHT=0.0,
            ),
        ),
        # AlphaPose's own configs carry these keys but its demo ignores them; akit's detector settings live in
        # configs/detector/<name>.yaml (read by alphapose_kit.detectors.detector_defaults), so no numbers here
        DETECTOR=_node(
            NAME="yolo",
            CONFIG="detector/yolo/cfg/yolov3-spp.cfg",
            WEIGHTS="detector/yolo/data/yolov3-spp.weights",
            NMS_THRES=None,
            CONFIDENCE=None,
            INPUT_SIZE=None,
        ),
        TRAIN=_node(
            WORLD_SIZE=4,
            BATCH_SIZE=32,
            BEGIN_EPOCH=0,
            END_EPOCH=200,
            OPTIMIZER="adam",
            LR=0.001,
            LR_FACTOR=0.1,
            LR_STEP=[90, 120],
            DPG_MILESTONE=140,
            DPG_STEP=[160, 190],
            # akit's training options (defaults = AlphaPose's recipe: Adam, MultiStepLR, fp32, no clipping)
            LR_SCHEDULE="multistep",  # or "cosine"
            WARMUP_EPOCHS=0.0,
            MIN_LR=0.0,  # cosine floor
            MOMENTUM=0.9,  # sgd
            WEIGHT_DECAY=0.0,
            GRAD_CLIP=0.0,  # max gradient norm; 0 = off
            AMP=False,  # mixed precision, CUDA only
            EMA_DECAY=0.0,  # exponential moving average of the weights; 0 = off (e.g. 0.9998)
            VAL_INTERVAL=2,  # validate every N epochs (and after the last one); 0 = never
            NUM_WORKERS=-1,  # DataLoader workers per process; -1 = min(8, CPUs per process)
            SEED=0,
            SYNC_BN=False,  # SyncBatchNorm under torchrun
            TENSORBOARD=False,
        ),
        TEST=_node(HEATMAP2COORD="coord"),
    )
    return cfg
