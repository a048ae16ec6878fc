"""akit's own definition of YOLOv3-SPP, AlphaPose's default person detector.

:func:`yolov3_spp_blocks` generates the network's layer list in the block format of
:func:`~alphapose_kit.detectors.nets.darknet_cfg.parse_darknet_cfg`, so users need only the official
``yolov3-spp.weights`` (no ``.cfg`` file). The structure: a Darknet-53 backbone (a 3x3 stem, then five stages, each
a stride-2 3x3 conv followed by residual pairs of 1x1 and 3x3 convs), then three detection heads at strides 32, 16
and 8. The stride-32 head has a spatial pyramid pooling block (max pools 5, 9, 13 at stride 1, concatenated with
their input); the stride-16 and stride-8 heads upsample the previous head's features and concatenate them with the
backbone's output at that stride.
"""

from __future__ import annotations

from alphapose_kit.detectors.nets.darknet import DarknetYOLO
from alphapose_kit.detectors.nets.darknet_cfg import Block

#: COCO anchors (w, h) in input pixels, smallest first; each head uses three of them.
ANCHORS: tuple[tuple[int, int], ...] = (
    (10, 13), (16, 30), (33, 23), (30, 61), (62, 45), (59, 119), (116, 90), (156, 198), (373, 326),
)  # fmt: skip

#: Darknet-53 stages: (output channels, residual blocks). Each stage first halves the resolution.
DARKNET53_STAGES: tuple[tuple[int, int], ...] = ((64, 1), (128, 2), (256, 8), (512, 8), (1024, 4))

SPP_POOL_SIZES = (5, 9, 13)

#: Options of the [net] section that matter for the network (its input size and channels); the training options of
#: the original cfg (learning rate, augmentation, ...) are not part of akit's definition.
NET_INFO: Block = {"type": "net", "width": 608, "height": 608, "channels": 3}


def _conv(filters: int, size: int, stride: int = 1) -> Block:
    """A darknet conv with batch norm and leaky activation ('same' padding)."""
    return {
        "type": "convolutional",
        "batch_normalize": 1,
        "filters": filters,
        "size": size,
        "stride": stride,
        "pad": 1,
        "activation": "leaky",
    }


def _yolo(mask: list[int], num_classes: int) -> list[Block]:
    """The 1x1 linear prediction conv (with bias, no batch norm) and the [yolo] decode layer of one head."""
    predict: Block = {
        "type": "convolutional",
        "size": 1,
        "stride": 1,
        "pad": 1,
        "filters": len(mask) * (5 + num_classes),
        "activation": "linear",
    }
    yolo: Block = {
        "type": "yolo",
        "mask": mask,
        "anchors": [v for pair in ANCHORS for v in pair],
        "classes": num_classes,
        "num": len(ANCHORS),
        # training-only options, kept so the list equals the original cfg
        "jitter": 0.3,
        "ignore_thresh": 0.7,
        "truth_thresh": 1,
        "random": 1,
    }
    return [predict, yolo]


def yolov3_spp_blocks(num_classes: int = 80) -> list[Block]:
    """YOLOv3-SPP as darknet blocks: the [net] block, then 114 layers (76 convolutional, 3 yolo)."""
    layers: list[Block] = [_conv(32, 3)]
    stage_ends: list[int] = []  # index of each stage's last layer, for the heads' routes
    for channels, repeats in DARKNET53_STAGES:
        layers.append(_conv(channels, 3, stride=2))
        for _ in range(repeats):
            shortcut: Block = {"type": "shortcut", "from": -3, "activation": "linear"}  # residual: add the stage input
            layers += [_conv(channels // 2, 1), _conv(channels, 3), shortcut]
        stage_ends.append(len(layers) - 1)

    # stride-32 head: 1x1/3x3/1x1, spatial pyramid pooling, 1x1/3x3/1x1/3x3, prediction
    layers += [_conv(512, 1), _conv(1024, 3), _conv(512, 1)]
    for k, size in enumerate(SPP_POOL_SIZES):
        if k:  # each pool reads the conv before the pyramid, not the previous pool
            layers.append({"type": "route", "layers": [-2 * k]})
        layers.append({"type": "maxpool", "stride": 1, "size": size})
    # concat largest pool first: pool13, pool9, pool5, conv
    layers.append({"type": "route", "layers": [-1, -3, -5, -6]})
    layers += [_conv(512, 1), _conv(1024, 3), _conv(512, 1), _conv(1024, 3)]
    layers += _yolo([6, 7, 8], num_classes)

    # stride-16 and stride-8 heads: reduce the previous head's 1x1 features, upsample, join the backbone stage
    for channels, stage_end, mask in ((256, stage_ends[3], [3, 4, 5]), (128, stage_ends[2], [0, 1, 2])):
        layers += [
            {"type": "route", "layers": [-4]},  # the last 1x1 conv before the previous head's 3x3 + prediction
            _conv(channels, 1),
            {"type": "upsample", "stride": 2},
            {"type": "route", "layers": [-1, stage_end]},
        ]
        for _ in range(3):
            layers += [_conv(channels, 1), _conv(channels * 2, 3)]
        layers += _yolo(mask, num_classes)
    return [dict(NET_INFO), *layers]


def build_yolov3_spp(num_classes: int = 80) -> DarknetYOLO:
    """A randomly initialised YOLOv3-SPP; load the official weights with ``load_darknet_weights``."""
    return DarknetYOLO(yolov3_spp_blocks(num_classes))
