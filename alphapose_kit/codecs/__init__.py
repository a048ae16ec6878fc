"""Codecs: pose-network outputs <-> keypoints (decode, flip test) and training targets (encode), in one place.

Follows the demo / validation path of AlphaPose (Fang et al., TPAMI 2022), release v0.6.0, including its quirks.
Everything accepts ``torch.Tensor`` or ``numpy.ndarray`` and works on whole batches at once. One
:class:`PoseCodec` per ``LOSS.TYPE``, chosen from a config by :func:`build_codec`.
"""

from alphapose_kit.codecs.codec import CODECS, PoseCodec, Target, build_codec, codec_class, register_codec
from alphapose_kit.codecs.flip import flip_heatmaps_back, flip_images, flip_permutation, merge_flip
from alphapose_kit.codecs.heatmap import decode_heatmaps, render_gaussian_heatmaps
from alphapose_kit.codecs.integral import integral_coords, integral_decode, integral_encode
from alphapose_kit.codecs.pose import (
    CombinedCodec,
    HeatmapCodec,
    IntegralCodec,
    combined_split,
    decode_pose,
)

__all__ = [
    "CODECS",
    "CombinedCodec",
    "HeatmapCodec",
    "IntegralCodec",
    "PoseCodec",
    "Target",
    "build_codec",
    "codec_class",
    "combined_split",
    "decode_heatmaps",
    "decode_pose",
    "flip_heatmaps_back",
    "flip_images",
    "flip_permutation",
    "integral_coords",
    "integral_decode",
    "integral_encode",
    "merge_flip",
    "register_codec",
    "render_gaussian_heatmaps",
]
