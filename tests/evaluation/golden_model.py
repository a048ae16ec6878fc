"""The pose network of the evaluation golden runs: a tiny seeded CNN plus a fixed "standing person" prior.

What the golden runs check is the evaluation around the network (boxes, crops, flip test, decoding, scores, pose
NMS, the metric), so the network only has to be the same callable on both sides and cheap on a CPU: a 4x average
pool and two seeded 3x3 convolutions make heatmaps that vary by about 0.1 with the crop's pixels (so every peak and
its quarter-pixel refinement depend on the crop), and a constant Gaussian per joint at a typical standing person's
position keeps the peaks near plausible joints, so AP is not zero. tests/golden/make_eval_golden.py runs this module
inside AlphaPose's own validation; the tests run it inside akit's.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# (x, y) in a 48 x 64 heatmap of a person box enlarged 1.25x, COCO-17 order: about the median of the shared COCO
# people, made left/right symmetric about x = 24 (so the flip test maps the prior onto itself)
STANDING_POSE = (
    (24, 14.5), (25, 14), (23, 14), (26, 13), (22, 13), (26.5, 18), (21.5, 18), (28, 23.5), (20, 23.5),
    (27, 28.5), (21, 28.5), (25.5, 33), (22.5, 33), (26, 41.5), (22, 41.5), (26.5, 52), (21.5, 52),
)  # fmt: skip
PRIOR_SIGMA = 2.0
NOISE_GAIN = 0.1  # the CNN part then has a standard deviation of about 0.06 on the shared COCO crops
SEED = 0


def prior_heatmaps(height: int = 64, width: int = 48) -> torch.Tensor:
    """(17, H, W) float32 Gaussians of peak 1 at STANDING_POSE (plain numpy, independent of akit's codecs)."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    maps = [np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * PRIOR_SIGMA**2)) for x, y in STANDING_POSE]
    return torch.from_numpy(np.stack(maps).astype(np.float32))


class GoldenPoseNet(nn.Module):
    """(N, 3, 256, 192) crops -> (N, 17, 64, 48) heatmaps: ``gain * conv(relu(conv(avgpool4(x)))) + prior``."""

    def __init__(self, seed: int = SEED, hidden: int = 8) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(4)
        self.conv1 = nn.Conv2d(3, hidden, 3, padding=1)
        self.conv2 = nn.Conv2d(hidden, len(STANDING_POSE), 3, padding=1)
        rng = np.random.RandomState(seed)  # legacy stream: the same weights under NumPy 1.x and 2.x
        with torch.no_grad():
            for conv in (self.conv1, self.conv2):
                fan_in = conv.in_channels * 9
                conv.weight.copy_(torch.from_numpy(rng.normal(0, np.sqrt(2 / fan_in), conv.weight.shape)))
                conv.bias.zero_()
        self.register_buffer("prior", prior_heatmaps())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return NOISE_GAIN * self.conv2(torch.relu(self.conv1(self.pool(x)))) + self.prior
