"""The pose stage shared by inference, evaluation, training validation and deployment: normalised crops ->
heatmaps (with AlphaPose's flip test) -> keypoints in image pixels.

Any network that maps an ``(N, 3, H, W)`` crop batch to ``(N, K, H/4, W/4)`` outputs fits: a torch module, or an
exported model wrapped as a callable (ONNX Runtime, TorchScript). Flip test and decoding follow AlphaPose's demo
path (Fang et al., "AlphaPose", TPAMI 2022; ``scripts/demo_inference.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext

import numpy as np
import torch
from yacs.config import CfgNode

from alphapose_kit.codecs import build_codec, flip_images
from alphapose_kit.data.transforms import heatmap_to_image
from alphapose_kit.errors import AkitError

PoseNetwork = Callable[[torch.Tensor], torch.Tensor]


class PoseEstimator:
    """Batched forward + flip test + decode + inverse affine; ``__call__(crops, crop_boxes) -> (coords, scores)``.

    The flip test and the decode are those of the config's codec (:func:`alphapose_kit.codecs.build_codec`).

    ``network`` takes a float32 ``(N, 3, H, W)`` tensor on ``device`` (channels_last) and returns heatmaps;
    ``flip_pairs`` are the keypoint set's left/right pairs, used when ``flip`` is on.
    """

    def __init__(
        self,
        network: PoseNetwork,
        cfg: CfgNode,
        flip_pairs: Sequence[tuple[int, int]],
        device: torch.device,
        flip: bool = False,
        batch: int = 64,
        half: bool = False,
    ) -> None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, got {batch}")
        self.network = network
        self.num_joints = int(cfg.DATA_PRESET.NUM_JOINTS)
        self.codec = build_codec(cfg)
        self.heatmap_size = tuple(cfg.DATA_PRESET.HEATMAP_SIZE)
        self.flip_pairs = tuple(flip_pairs)
        if flip and not self.flip_pairs and self.num_joints > 1:
            raise AkitError("--flip needs flip pairs; the keypoint set has none")
        self.device = device
        self.flip = flip
        self.batch = batch
        self.half = half

    def heatmaps(self, batch: torch.Tensor) -> torch.Tensor:
        """Network output for one batch on ``device``, flip-merged when ``flip`` is on; float32. Only the first K
        maps are kept, as AlphaPose's writer decodes its EVAL_JOINTS (FastPose_DUC_Dense adds maps past K)."""
        autocast = torch.autocast("cuda", dtype=torch.float16) if self.half else nullcontext()
        k = self.num_joints
        with torch.inference_mode(), autocast:
            heatmaps = self.network(batch)[:, :k]
            if self.flip:
                flipped = self.network(torch.as_tensor(flip_images(batch)))[:, :k]
                heatmaps = torch.as_tensor(self.codec.flip_merge(heatmaps, flipped, self.flip_pairs))
        return heatmaps.float()

    def decode(self, heatmaps: torch.Tensor, crop_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Heatmaps ``(N, K, h, w)`` -> keypoints ``(N, K, 2)`` in image pixels and scores ``(N, K)``, float32."""
        coords, scores = self.codec.decode(heatmaps.cpu())
        coords = heatmap_to_image(coords, crop_boxes, self.heatmap_size)
        return np.asarray(coords, np.float32), np.asarray(scores, np.float32)

    def to_device(self, crops: np.ndarray | torch.Tensor) -> torch.Tensor:
        """A crop batch as a channels_last float tensor on ``device`` (pinned copy on CUDA)."""
        chunk = torch.as_tensor(np.ascontiguousarray(crops) if isinstance(crops, np.ndarray) else crops)
        if self.device.type == "cuda":
            chunk = chunk.pin_memory().to(self.device, non_blocking=True)
        return chunk.contiguous(memory_format=torch.channels_last)

    def __call__(self, crops: np.ndarray | torch.Tensor, crop_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All crops in batches of ``batch``: keypoints ``(N, K, 2)`` in image pixels and scores ``(N, K)``."""
        k = self.num_joints
        if len(crops) == 0:
            return np.zeros((0, k, 2), np.float32), np.zeros((0, k), np.float32)
        coords, scores = [], []
        for start in range(0, len(crops), self.batch):
            stop = start + self.batch
            c, s = self.decode(self.heatmaps(self.to_device(crops[start:stop])), crop_boxes[start:stop])
            coords.append(c)
            scores.append(s)
        return np.concatenate(coords), np.concatenate(scores)
