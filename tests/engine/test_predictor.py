"""PosePipeline as a library: batching invariance, flip test on a hand-made case, flat memory on long videos."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from torch import nn

from alphapose_kit.data.sources import VideoSource, open_source
from alphapose_kit.detectors import Detections
from alphapose_kit.engine.predictor import PosePipeline

CFG_OPTS = ["DATA_PRESET.IMAGE_SIZE", "[64,64]", "DATA_PRESET.HEATMAP_SIZE", "[16,16]"]


class BrightnessHeatmaps(nn.Module):
    """Heatmap of every joint = the crop's mean channel at pixels (4i, 4j): heatmap index i is crop pixel 4i,
    the convention AlphaPose's decoder and flip shift assume."""

    def __init__(self, num_joints: int = 17) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.scale = nn.Parameter(torch.tensor(4.0))  # a full bright cell scores 4 * (1 - 0.45) > 0.3

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sampled = x.mean(dim=1, keepdim=True)[:, :, ::4, ::4] * self.scale
        return sampled.expand(-1, self.num_joints, -1, -1).contiguous()


class FixedBoxes:
    """A detector that returns the same boxes on every frame."""

    def __init__(self, boxes: list[list[float]], scores: list[float]) -> None:
        self.boxes, self.scores = boxes, scores

    def __call__(self, frames, image_ids=None) -> list[Detections]:
        return [Detections(np.asarray(self.boxes, np.float32), np.asarray(self.scores, np.float32)) for _ in frames]


def spot_image(x: int, y: int, size: int = 10) -> np.ndarray:
    image = np.zeros((240, 320, 3), np.uint8)
    image[y - size // 2 : y + size // 2, x - size // 2 : x + size // 2] = 255
    return image


def make_pipeline(detector, flip=False, batch=64, det_batch=4, pose_nms="pnms") -> PosePipeline:
    from alphapose_kit.config import load_config

    cfg = load_config("coco/fastpose_res50_256x192", CFG_OPTS)
    return PosePipeline(
        cfg, detector=detector, device="cpu", flip=flip, batch=batch, det_batch=det_batch, pose_nms=pose_nms,
        pose_model=BrightnessHeatmaps(),
    )  # fmt: skip


def write_images(folder: Path, images: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i:03d}.png"), image)
    return folder


def test_bright_spot_is_found_with_and_without_flip(tmp_path: Path) -> None:
    # box (96, 56)-(224, 184): 128x128, centre (160, 120), scale 160 after x1.25; 64-px crop -> s = 0.4:
    # crop pixel p <-> image x = (p - 32) / 0.4 + 160, so one heatmap pixel (4 crop px) is 10 image px.
    # The spot covers image x 171-180, y 99-108: of the sampled crop pixels only x = 40 (image 180) and
    # y = 24 (image 100) are bright, so the peak is heatmap (10, 6) with equal (dark) neighbours: no
    # quarter-pixel move, and it maps back to exactly (180, 100).
    # Flip: mirrored crop pixel q is crop pixel 63 - q; bright crop x 37-40 -> mirrored 23-26, sampled at 24 =
    # mirrored column 6 -> flipped back to column 15 - 6 = 9 -> shifted right to 10: the same peak, the same
    # (180, 100), and the averaged score equals the plain one.
    folder = write_images(tmp_path / "spot", [spot_image(176, 104)])
    detector = FixedBoxes([[96.0, 56.0, 224.0, 184.0]], [0.9])
    results = {flip: next(iter(make_pipeline(detector, flip=flip).run(folder))) for flip in (False, True)}
    for result in results.values():
        assert result.num_people == 1
        assert np.array_equal(result.keypoints[0], np.tile(np.float32([180.0, 100.0]), (17, 1)))
    assert np.allclose(results[True].keypoint_scores, results[False].keypoint_scores, atol=1e-6)


def test_mirrored_scene_gives_mirrored_poses(tmp_path: Path) -> None:
    image = spot_image(140, 100)
    mirrored = image[:, ::-1].copy()
    width = image.shape[1]
    box = [60.0, 40.0, 188.0, 168.0]
    mirrored_box = [width - box[2], box[1], width - box[0], box[3]]
    (a,) = list(make_pipeline(FixedBoxes([box], [0.9])).run(write_images(tmp_path / "a", [image])))
    (b,) = list(make_pipeline(FixedBoxes([mirrored_box], [0.9])).run(write_images(tmp_path / "b", [mirrored])))
    # x -> width - x up to one heatmap pixel of sampling offset (10 image px here)
    assert np.allclose(b.keypoints[0][:, 0], width - a.keypoints[0][:, 0], atol=10.0)
    assert np.allclose(b.keypoints[0][:, 1], a.keypoints[0][:, 1], atol=1e-3)


def test_results_do_not_depend_on_batching(tmp_path: Path, shared_data: Path) -> None:
    folder = shared_data / "coco"
    boxes = [[277.1, 45.7, 502.2, 379.3], [10.0, 20.0, 110.0, 220.0], [300.0, 100.0, 340.0, 180.0]]
    detector = FixedBoxes(boxes, [0.99, 0.6, 0.5])
    reference = list(make_pipeline(detector, flip=True, batch=64, det_batch=4).run(folder))
    other = list(make_pipeline(detector, flip=True, batch=1, det_batch=3).run(folder))
    assert [r.image_id for r in reference] == sorted(p.name for p in folder.glob("*.jpg"))
    for a, b in zip(reference, other, strict=True):
        assert np.array_equal(a.keypoints, b.keypoints) and np.array_equal(a.scores, b.scores)
        assert a.idx == b.idx


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    pytest.skip("no /proc/self/status on this system")


def test_memory_stays_flat_on_a_long_video(tmp_path: Path, shared_data: Path) -> None:
    path = tmp_path / "long.mp4"
    capture = cv2.VideoCapture(str(shared_data / "video" / "people_walking.mp4"))
    frames = []
    while (item := capture.read())[0]:
        frames.append(item[1])
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, frames[0].shape[1::-1])
    for i in range(400):
        writer.write(frames[i % len(frames)])
    writer.release()
    boxes = FixedBoxes([[100.0, 150.0, 180.0, 350.0], [500.0, 120.0, 590.0, 360.0]], [0.9, 0.8])
    pipeline = make_pipeline(boxes, pose_nms="none")
    source = open_source(path)
    assert isinstance(source, VideoSource) and source.length == 400
    rss = {}
    count = 0
    for result in pipeline.run(source):
        count += 1
        if count in (50, 400):
            rss[count] = _rss_mb()
        assert result.num_people == 2
    assert count == 400
    assert rss[400] - rss[50] < 25, rss  # 350 more frames of 960x540 (1.5 MB each) would be > 500 MB if kept


def test_public_names_are_importable_from_the_package() -> None:
    import alphapose_kit as ak

    assert ak.PosePipeline is PosePipeline
    for name in ("load_pose_model", "load_detector", "parametric_pose_nms", "oks_pose_nms", "load_config"):
        assert callable(getattr(ak, name))
    with pytest.raises(AttributeError):
        _ = ak.not_a_name


def test_start_up_leaves_torchvision_unimported() -> None:
    """torchvision costs seconds at start-up; a detfile run or a non-DCN model never needs it."""
    probe = "import sys, alphapose_kit.engine.infer, alphapose_kit.cli.app; print('torchvision' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("config", "people"),
    [("halpe136/fastpose_res50_256x192", 32), ("halpe136/fastpose_dcn_res50_combined_256x192", 31),
     ("halpe26/fastpose_res50_256x192", 31)],
)  # fmt: skip
def test_pose_nms_follows_the_joint_count(config: str, people: int) -> None:
    """Two identical people among 30 others far away: AlphaPose's whole-body NMS for a heatmap network (136 joints)
    normalises its match count by the 32 candidates and its similarity (at most 8.05) stays under 22.48, so both
    copies are kept; with the regression constants of a Combined network the copies' similarity, 1.65 * (1 + 1 +
    1.5) = 5.78, passes 3.6 and they merge, as the body NMS (26 joints) merges them by their matching joints."""
    from alphapose_kit.data.sources import Frame

    rng = np.random.default_rng(0)
    k = 136 if config.startswith("halpe136") else 26
    poses = [np.column_stack([x0 + rng.uniform(0, 100, k), rng.uniform(0, 200, k)]) for x0 in range(0, 9300, 300)]
    poses.insert(1, poses[0])
    kps = np.stack(poses).astype(np.float32)
    scores = np.full(kps.shape[:2], 0.5, np.float32)
    scores[:2] = 0.9
    boxes = np.concatenate([kps.min(1), kps.max(1)], axis=1)
    dets = Detections(boxes, np.full(len(kps), 0.9, np.float32))
    pipeline = PosePipeline(config, detector=FixedBoxes([], []), device="cpu", pose_model=nn.Identity())
    result = pipeline._finish_frame(Frame(0, "0.jpg", np.zeros((8, 8, 3), np.uint8)), dets, kps, scores)
    assert len(result.boxes) == people


class DenseBranchHeatmaps(BrightnessHeatmaps):
    """49 maps like FastPose_DUC_Dense: the 17 body maps see the spot, the 32 dense ones are brighter elsewhere."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        body = super().forward(x)[:, :17]
        dense = torch.zeros(body.shape[0], 32, *body.shape[2:])
        dense[:, :, 0, 0] = 100.0
        return torch.cat([body, dense], 1)


@pytest.mark.parametrize("flip", [False, True])
def test_dense_networks_decode_their_body_joints_only(tmp_path: Path, flip: bool) -> None:
    """FastPose_DUC_Dense gives 49 maps for NUM_JOINTS 17: the pipeline decodes the first 17, as AlphaPose's
    writer does (EVAL_JOINTS), so the spot is found and nothing of the dense branch reaches the results."""
    from alphapose_kit.config import load_config

    cfg = load_config("coco/fastpose_duc_dense_dcn_res50_256x192", CFG_OPTS)
    pipeline = PosePipeline(
        cfg, detector=FixedBoxes([[96.0, 56.0, 224.0, 184.0]], [0.9]), device="cpu", flip=flip,
        pose_model=DenseBranchHeatmaps(49),
    )  # fmt: skip
    (result,) = list(pipeline.run(write_images(tmp_path / "spot", [spot_image(176, 104)])))
    assert result.keypoints.shape == (1, 17, 2)
    assert np.array_equal(result.keypoints[0], np.tile(np.float32([180.0, 100.0]), (17, 1)))
