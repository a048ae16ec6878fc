"""Pure array functions on poses (torchvision.ops style): parametric pose NMS (``pnms``, and ``pnms_wholebody`` for
133/136 joints), OKS-NMS (``oks_nms``), person scores, and the box IoU / keypoint OKS everything else uses
(``similarity``)."""

from alphapose_kit.ops.nms_result import PoseNMSResult
from alphapose_kit.ops.oks_nms import default_oks_sigmas, oks_pose_nms
from alphapose_kit.ops.pnms import parametric_pose_nms
from alphapose_kit.ops.pnms_wholebody import parametric_nms_for, wholebody_pose_nms
from alphapose_kit.ops.scores import person_score
from alphapose_kit.ops.similarity import box_iou, keypoint_similarity, object_keypoint_similarity, paired_iou, pose_oks

#: The pose NMS choices of ``akit infer`` and ``akit eval`` (``--pose-nms``): parametric, OKS-based, none.
POSE_NMS = ("pnms", "oks", "none")

__all__ = [
    "POSE_NMS",
    "PoseNMSResult",
    "box_iou",
    "default_oks_sigmas",
    "keypoint_similarity",
    "object_keypoint_similarity",
    "oks_pose_nms",
    "paired_iou",
    "parametric_nms_for",
    "parametric_pose_nms",
    "person_score",
    "pose_oks",
    "wholebody_pose_nms",
]
