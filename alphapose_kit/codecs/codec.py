"""One codec object per ``LOSS.TYPE`` (MMPose-codec style): encode training targets, decode network output, flip
test; chosen once from the config by :func:`build_codec`, so no other module branches on the loss type.

Adding a codec is one registration: subclass :class:`PoseCodec`, give it the ``LOSS.TYPE`` it serves as ``name``
and decorate it with :func:`register_codec`; inference, evaluation, export checks and training samples then use it.
(Training it also needs a loss in ``alphapose_kit.engine.losses``.)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import ClassVar, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from yacs.config import CfgNode

from alphapose_kit.codecs._common import HeatmapArray
from alphapose_kit.codecs.flip import flip_heatmaps_back, merge_flip
from alphapose_kit.config import loss_type
from alphapose_kit.errors import AkitError, ConfigError

#: A training target (or weight): one array, or ``(heatmap part, integral part)`` under ``Combined``.
Target = NDArray[np.float32] | tuple[NDArray[np.float32], NDArray[np.float32]]

#: ``LOSS.NORM_TYPE`` values the integral decode knows (AlphaPose's ``norm_heatmap``).
NORM_TYPES = ("sigmoid", "softmax", "divide_sum")


class PoseCodec(ABC):
    """Targets <-> keypoints of one ``LOSS.TYPE`` for crops of ``input_size`` and outputs of ``heatmap_size``.

    ``encode`` takes ``(K, 2)`` joints in crop pixels and ``(K,)`` visibility; ``decode`` returns ``(N, K, 2)``
    coordinates in heatmap pixels and ``(N, K)`` scores, float32.
    """

    name: ClassVar[str]  # the LOSS.TYPE this codec serves

    def __init__(
        self,
        num_joints: int,
        input_size: Sequence[int] = (256, 192),
        heatmap_size: Sequence[int] = (64, 48),
        sigma: float = 2,
        norm_type: str = "sigmoid",
    ) -> None:
        if norm_type not in NORM_TYPES:
            raise ValueError(f"LOSS.NORM_TYPE {norm_type!r} is not supported; use {', '.join(NORM_TYPES)}")
        self.num_joints = int(num_joints)
        self.input_size = (int(input_size[0]), int(input_size[1]))  # (h, w)
        self.heatmap_size = (int(heatmap_size[0]), int(heatmap_size[1]))
        self.sigma = sigma
        self.norm_type = norm_type

    @abstractmethod
    def encode(self, coords: ArrayLike, visibility: ArrayLike) -> tuple[Target, Target]:
        """Training ``(target, weight)`` of one person, as AlphaPose's ``SimpleTransform`` makes them."""

    @abstractmethod
    def decode(
        self, heatmaps: HeatmapArray, heatmaps_flip: HeatmapArray | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
        """Network output ``(N, K, h, w)`` -> ``(coords, scores)`` in heatmap pixels.

        ``heatmaps_flip`` (the mirrored crops' output, already flipped back) gives ``scripts/validate.py``'s flip
        semantics; the demo's flip test is :meth:`flip_merge` followed by a plain decode.
        """

    def flip_merge(
        self, heatmaps: HeatmapArray, flipped: HeatmapArray, flip_pairs: Iterable[Sequence[int]]
    ) -> HeatmapArray:
        """The demo's flip test: average the output with the mirrored crops' output flipped back (same for every
        ``LOSS.TYPE``: AlphaPose averages raw heatmaps or logits before decoding)."""
        return merge_flip(heatmaps, flip_heatmaps_back(flipped, flip_pairs))


#: The codec class of each ``LOSS.TYPE``, in registration order.
CODECS: dict[str, type[PoseCodec]] = {}

CodecClass = TypeVar("CodecClass", bound=type[PoseCodec])


def register_codec(cls: CodecClass) -> CodecClass:
    """Class decorator: make ``cls`` the codec of ``LOSS.TYPE: cls.name`` (a name already taken is refused in one
    line)."""
    held = CODECS.get(cls.name)
    if held is not None and held is not cls:
        raise AkitError(f"a codec for LOSS.TYPE {cls.name!r} is already registered ({held.__module__}.{held.__name__})")
    CODECS[cls.name] = cls
    return cls


def codec_class(name: str) -> type[PoseCodec]:
    """The codec class registered for ``LOSS.TYPE: name``; ValueError naming the known ones otherwise."""
    try:
        return CODECS[name]
    except KeyError:
        raise ValueError(f"LOSS.TYPE {name!r} is not supported; choose {', '.join(CODECS)}") from None


def norm_type_of(cfg: CfgNode) -> str:
    """The ``LOSS.NORM_TYPE`` a config decodes integral outputs with (``DATA_PRESET.NORM_TYPE``, else sigmoid)."""
    return str(cfg.LOSS.NORM_TYPE or cfg.DATA_PRESET.NORM_TYPE or "sigmoid")


def build_codec(cfg: CfgNode) -> PoseCodec:
    """The codec a config's ``LOSS.TYPE`` names, sized from ``DATA_PRESET``; fails at start-up (one line), not
    mid-run, for a loss type, norm type or joint count it cannot serve."""
    kind = loss_type(cfg)
    if kind not in CODECS:
        raise ConfigError(f"LOSS.TYPE {kind!r} cannot be decoded; akit supports {', '.join(CODECS)}")
    preset = cfg.DATA_PRESET
    try:
        return CODECS[kind](
            int(preset.NUM_JOINTS), preset.IMAGE_SIZE, preset.HEATMAP_SIZE, preset.SIGMA, norm_type_of(cfg)
        )
    except ValueError as exc:
        raise ConfigError(f"LOSS.TYPE {kind}: {exc}") from None
