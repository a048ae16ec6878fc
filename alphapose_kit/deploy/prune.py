"""Structured channel pruning with Torch-Pruning (Fang et al., "DepGraph: Towards Any Structural Pruning", CVPR
2023): the network really gets narrower (fewer channels, fewer FLOPs), saved as a YAML config with the new channel
counts (``MODEL.PRUNED_WIDTHS``) and a tensor-only checkpoint that ``load_pose_model`` loads.

Torch-Pruning treats ``nn.PixelShuffle`` as element-wise (Torch-Pruning #98, #420), which breaks FastPose's DUC
head: a PixelShuffle(r) turns input channels ``c r^2 .. c r^2 + r^2 - 1`` into output channel ``c``. akit registers
PixelShuffle / PixelUnshuffle as layers of their own with that index mapping, and prunes the channels feeding a
PixelShuffle in whole groups of ``r^2``, so layer4 and the DUC head are pruned like the rest. Deformable convolutions
get a pruner of their own, and their offset branch (``conv2_offset``, whose outputs are sampling offsets) is kept.
Every layer loses the same fraction of its channel groups (local pruning); the joint classifier keeps its outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from yacs.config import CfgNode

from alphapose_kit.deploy.formats import CHECKPOINT_SUFFIX, CONFIG_SUFFIXES
from alphapose_kit.errors import AkitError
from alphapose_kit.models.dcn import DeformConv2d
from alphapose_kit.utils.logging import get_logger

log = get_logger("deploy")

IMPORTANCES = ("l1", "l2", "taylor")
ROUND_TO = 8


def check_ratio(ratio: float, flag: str = "--prune") -> None:
    """One line for a pruning ratio outside (0, 1)."""
    if not 0 < ratio < 1:
        raise AkitError(f"{flag} takes a ratio strictly between 0 and 1 (e.g. 0.3), got {ratio}")


def check_importance(kind: str) -> None:
    """One line for an importance criterion akit does not have."""
    if kind not in IMPORTANCES:
        raise AkitError(f"unknown --importance {kind!r}; choose one of {', '.join(IMPORTANCES)}")


def taylor_source(calib: str | Path | None) -> Path:
    """The labelled crops' source Taylor importance needs: ``calib`` or the development data, a COCO keypoint file."""
    from alphapose_kit.deploy.calibration import default_source, is_coco_file

    source = Path(calib) if calib is not None else default_source()
    if source is None or not is_coco_file(source):
        raise AkitError("--importance taylor needs --calib with keypoint annotations (a COCO keypoint file)")
    return source


def pruned_paths(
    config: str | Path | CfgNode, ratio: float, output: str | Path | None = None, exist_ok: bool = False
) -> tuple[Path, Path]:
    """The pruned pair's ``(config.yaml, weights.pth)``: ``output`` names either one (the other goes beside it) or a
    folder; default ``runs/export/expN/<config>-prunedNN.yaml``. Existing files are refused unless ``exist_ok``."""
    from alphapose_kit.deploy.files import check_free, config_stem, output_path

    path = output_path(output, f"{config_stem(config)}-pruned{round(100 * ratio)}{CONFIG_SUFFIXES[0]}", exist_ok=True)
    if path.suffix == CHECKPOINT_SUFFIX:
        pair = path.with_suffix(CONFIG_SUFFIXES[0]), path
    elif path.suffix in CONFIG_SUFFIXES:
        pair = path, path.with_suffix(CHECKPOINT_SUFFIX)
    else:
        raise AkitError(
            f"--prune writes a YAML config and a {CHECKPOINT_SUFFIX} beside it; --output {path.name} is neither "
            f"{' nor '.join(CONFIG_SUFFIXES)} nor {CHECKPOINT_SUFFIX}"
        )
    check_free(pair, exist_ok)
    return pair


def _tp() -> Any:
    try:
        import torch_pruning
    except ImportError:
        raise AkitError("pruning needs Torch-Pruning: pip install torch-pruning") from None
    return torch_pruning


class _BlockMapping:
    """Torch-Pruning index mapping across a pixel (un)shuffle: ``i -> i // r2`` (merge), ``c -> c r2 + k`` (spread).

    Merged indices are kept once each (Torch-Pruning counts repeated indices as channels when it checks a group).
    """

    def __init__(self, r2: int, merge: bool) -> None:
        self.r2, self.merge = r2, merge

    def __call__(self, idxs: Sequence[Any]) -> list[Any]:
        if self.merge:
            merged = {i.idx // self.r2: type(i)(idx=i.idx // self.r2, root_idx=i.root_idx) for i in reversed(idxs)}
            return list(merged.values())
        return [type(i)(idx=i.idx * self.r2 + k, root_idx=i.root_idx) for i in idxs for k in range(self.r2)]


def _shuffle_pruner() -> Any:
    """A parameter-free pruner for PixelShuffle / PixelUnshuffle: the layer itself has nothing to cut."""
    tp = _tp()

    class ShufflePruner(tp.pruner.function.BasePruningFunc):  # type: ignore[name-defined]
        def prune_out_channels(self, layer: nn.Module, idxs: Sequence[int]) -> nn.Module:
            return layer

        prune_in_channels = prune_out_channels  # one function: pruning one side prunes the other (mapped)

        def get_out_channels(self, layer: nn.Module) -> None:
            return None

        def get_in_channels(self, layer: nn.Module) -> None:
            return None

    return ShufflePruner()


def _deform_pruner() -> Any:
    """Out / in channel pruning of akit's DeformConv2d (weight ``(out, in / groups, kh, kw)``, optional bias)."""
    tp = _tp()

    def keep(n: int, idxs: Sequence[int]) -> list[int]:
        return sorted(set(range(n)) - set(idxs))

    class DeformPruner(tp.pruner.function.BasePruningFunc):  # type: ignore[name-defined]
        def prune_out_channels(self, layer: DeformConv2d, idxs: Sequence[int]) -> nn.Module:
            rows = keep(layer.out_channels, idxs)
            layer.weight = nn.Parameter(layer.weight.data[rows].clone())
            if layer.bias is not None:
                layer.bias = nn.Parameter(layer.bias.data[rows].clone())
            layer.out_channels = len(rows)
            return layer

        def prune_in_channels(self, layer: DeformConv2d, idxs: Sequence[int]) -> nn.Module:
            cols = keep(layer.in_channels, idxs)
            layer.weight = nn.Parameter(layer.weight.data[:, cols].clone())
            layer.in_channels = len(cols)
            return layer

        def get_out_channels(self, layer: DeformConv2d) -> int:
            return layer.out_channels

        def get_in_channels(self, layer: DeformConv2d) -> int:
            return layer.in_channels

    return DeformPruner()


def _link_shuffles(graph: Any) -> dict[nn.Module, int]:
    """Give every pixel (un)shuffle node its channel-block index mapping; returns PixelShuffle -> r^2."""
    blocks: dict[nn.Module, int] = {}
    for module, node in graph.module2node.items():
        if not isinstance(module, (nn.PixelShuffle, nn.PixelUnshuffle)):
            continue
        factor = module.upscale_factor if isinstance(module, nn.PixelShuffle) else module.downscale_factor
        r2 = factor * factor
        merge = isinstance(module, nn.PixelShuffle)  # r^2 input channels become one output channel
        if merge:
            blocks[module] = r2
        for source in node.inputs:
            for dep in source.dependencies:
                if dep.target is node:
                    dep.index_mapping[0] = _BlockMapping(r2, merge)
            for dep in node.dependencies:
                if dep.target is source:
                    dep.index_mapping[0] = _BlockMapping(r2, not merge)
    return blocks


def _detach_offsets(graph: Any, model: nn.Module) -> list[nn.Module]:
    """Cut the edges between each deformable conv and its offset branch (offsets are not channels of the features);
    returns the offset convolutions, whose outputs must stay as they are."""
    offset_convs = [m.get_submodule("conv2_offset") for m in model.modules() if hasattr(m, "conv2_offset")]
    for block in (m for m in model.modules() if hasattr(m, "conv2_offset")):
        dcn = graph.module2node[block.conv2]
        branch, frontier = set(), [graph.module2node[block.conv2_offset]]
        while frontier:  # the offset conv and what lies between it and the deformable conv (slice, sigmoid)
            node = frontier.pop()
            if node is dcn or node in branch:
                continue
            branch.add(node)
            frontier.extend(node.outputs)
        for node in [n for n in dcn.inputs if n in branch]:
            dcn.inputs.remove(node)
            node.outputs.remove(dcn)
            dcn.dependencies = [d for d in dcn.dependencies if d.target is not node]
            node.dependencies = [d for d in node.dependencies if d.target is not dcn]
    return offset_convs


def _output_layers(model: nn.Module, example: torch.Tensor) -> list[nn.Module]:
    """The layers whose outputs are the network's outputs (the joint classifier): their outputs are never pruned."""
    calls: list[tuple[nn.Module, torch.Tensor]] = []

    def record(module: nn.Module, _inputs: Any, out: torch.Tensor) -> None:
        calls.append((module, out))

    hooks = [
        m.register_forward_hook(record)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear))
    ]
    with torch.no_grad():
        final = model(example)
    for hook in hooks:
        hook.remove()
    return [module for module, out in calls[-1:] if out is final or torch.equal(out, final)]


@dataclass
class PruneResult:
    """A pruned network, its config, and what pruning removed."""

    model: nn.Module
    cfg: CfgNode
    macs: tuple[float, float]  # before, after (multiply-accumulates of one crop)
    params: tuple[int, int]
    widths: list[list[Any]] = field(default_factory=list)
    config_path: Path | None = None
    checkpoint_path: Path | None = None

    @property
    def flops_removed(self) -> float:
        return 1 - self.macs[1] / self.macs[0]

    def line(self) -> str:
        before, after = self.macs
        return (
            f"pruned: {before / 1e9:.2f} -> {after / 1e9:.2f} GMACs per crop ({100 * self.flops_removed:.1f} % fewer), "
            f"{self.params[0] / 1e6:.1f} -> {self.params[1] / 1e6:.1f} M parameters"
        )


def _importance(kind: str) -> Any:
    check_importance(kind)
    tp = _tp()
    if kind == "taylor":
        return tp.importance.GroupTaylorImportance()
    return tp.importance.GroupMagnitudeImportance(p=1 if kind == "l1" else 2)


def _taylor_gradients(model: nn.Module, crops: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> None:
    """Accumulate the gradients of AlphaPose's heatmap MSE on labelled crops (for Taylor importance)."""
    model.zero_grad()
    out = model(torch.from_numpy(crops))
    loss = (((out - torch.from_numpy(targets)) ** 2) * torch.from_numpy(weights)).mean()
    loss.backward()


def heatmap_targets(cfg: CfgNode, crops: Any) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian heatmap targets ``(N, K, h, w)`` and weights ``(N, K, 1, 1)`` of labelled calibration crops: each
    annotated keypoint mapped into its crop's heatmap by the affine the decoder inverts."""
    from alphapose_kit.codecs import render_gaussian_heatmaps
    from alphapose_kit.data.transforms import affine_transform_points, get_affine_transform

    if crops.keypoints is None:
        raise AkitError("--importance taylor needs --calib with keypoint annotations (a COCO keypoint file)")
    hm_h, hm_w = (int(v) for v in cfg.DATA_PRESET.HEATMAP_SIZE)
    points = []
    for box, kps in zip(crops.crop_boxes.astype(np.float64), crops.keypoints, strict=True):
        center = np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])
        points.append(affine_transform_points(kps[:, :2], get_affine_transform(center, box[2] - box[0], (hm_w, hm_h))))
    visible = np.minimum(crops.keypoints[..., 2], 1)
    maps, weights = render_gaussian_heatmaps(np.asarray(points), visible, (hm_h, hm_w), cfg.DATA_PRESET.SIGMA)
    return maps.astype(np.float32), weights.astype(np.float32)[..., None, None]


def kept_blocks(blocks: int, ratio: float, round_to: int) -> int:
    """How many of ``blocks`` channel groups a layer keeps: ``(1 - ratio)`` of them, rounded to a multiple of
    ``round_to`` (convolution kernels are fastest on channel counts that are multiples of 8), at least ``round_to``;
    all of them when the rounding leaves nothing to cut."""
    keep = round(blocks * (1 - ratio) / round_to) * round_to
    return min(blocks, max(round_to, keep))


def prune_network(
    model: nn.Module,
    example: torch.Tensor,
    ratio: float,
    importance: str = "l2",
    taylor_data: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    round_to: int = ROUND_TO,
) -> nn.Module:
    """Prune ``ratio`` of the channel groups of every prunable layer of ``model`` in place; returns ``model``.

    Kept channel counts are multiples of ``round_to`` (after a PixelShuffle(r): ``r^2 round_to`` before it).
    """
    tp = _tp()
    check_ratio(ratio)
    scorer = _importance(importance)
    model.eval()
    graph = tp.DependencyGraph().build_dependency(
        model,
        example,
        customized_pruners={
            nn.PixelShuffle: _shuffle_pruner(),
            nn.PixelUnshuffle: _shuffle_pruner(),
            DeformConv2d: _deform_pruner(),
            **{cls: _deform_pruner() for cls in DeformConv2d.__subclasses__()},
        },
    )
    shuffles = _link_shuffles(graph)
    keep_outputs = _detach_offsets(graph, model) + _output_layers(model, example)
    if importance == "taylor":
        if taylor_data is None:
            raise AkitError("--importance taylor needs labelled calibration crops")
        _taylor_gradients(model, *taylor_data)
    roots = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, DeformConv2d)
    plans = []
    for group in graph.get_all_groups(ignored_layers=keep_outputs, root_module_types=roots):
        scores = scorer(group)
        if scores is None:
            continue
        block = max([shuffles.get(dep.target.module, 1) for dep, _ in group], default=1)
        channels = len(scores)
        if channels % block:
            continue
        per_block = scores.reshape(channels // block, block).mean(dim=1)
        n_cut = len(per_block) - kept_blocks(len(per_block), ratio, round_to)
        if n_cut <= 0:
            continue
        cut = torch.argsort(per_block)[:n_cut].tolist()
        idxs = sorted(b * block + k for b in cut for k in range(block))
        root = group[0].dep
        plans.append((root.target.module, root.handler, idxs))
    for module, handler, idxs in plans:  # groups are disjoint: indices found before pruning stay valid
        group = graph.get_pruning_group(module, handler, idxs)
        if graph.check_pruning_group(group):
            group.prune()
    model.zero_grad(set_to_none=True)
    return model


def count_macs(model: nn.Module, example: torch.Tensor) -> tuple[float, int]:
    """Multiply-accumulates of one forward on ``example`` and the parameter count (Torch-Pruning's counter)."""
    macs, params = _tp().utils.count_ops_and_params(model, example)
    return float(macs), int(params)


def prune_pose(
    config: str | Path | CfgNode,
    checkpoint: str | Path | None,
    ratio: float,
    *,
    importance: str = "l2",
    output: str | Path | None = None,
    calib: str | Path | None = None,
    calib_size: int = 32,
    opts: Sequence[str] = (),
    exist_ok: bool = False,
) -> PruneResult:
    """Prune a pose network and write ``<name>.yaml`` (config with MODEL.PRUNED_WIDTHS) + ``<name>.pth`` (its
    weights and that config, as akit training checkpoints hold them).

    ``output`` names the YAML or the .pth (the other is written beside it) or a folder. ``calib`` (a COCO keypoint
    file) gives the labelled crops Taylor importance needs; l1/l2 need no data. The saved pair is reloaded through
    ``load_pose_model`` and must reproduce the pruned network's output before it is kept.
    """
    from alphapose_kit.config import dump_config, load_config
    from alphapose_kit.deploy.calibration import person_crops
    from alphapose_kit.deploy.files import config_stem, staged
    from alphapose_kit.models.loader import load_pose_model
    from alphapose_kit.models.registry import build_pose_model
    from alphapose_kit.models.widths import width_changes

    check_ratio(ratio)
    _importance(importance)
    source = taylor_source(calib) if importance == "taylor" else None
    cfg = load_config(config, opts)
    stem = config_stem(config)
    yaml_path, pth_path = pruned_paths(config, ratio, output, exist_ok)
    model = load_pose_model(cfg, checkpoint, "cpu")
    height, width = (int(v) for v in cfg.DATA_PRESET.IMAGE_SIZE)
    example = torch.randn(1, 3, height, width, generator=torch.Generator().manual_seed(0))
    taylor = None
    if source is not None:
        crops = person_crops(source, (height, width), calib_size)
        taylor = (crops.crops, *heatmap_targets(cfg, crops))
    before = count_macs(model, example)
    prune_network(model, example, ratio, importance, taylor)
    after = count_macs(model, example)
    reference_cfg = cfg.clone()
    reference_cfg.defrost()
    reference_cfg.MODEL.PRUNED_WIDTHS = []
    widths = width_changes(model, build_pose_model(reference_cfg))
    pruned_cfg = cfg.clone()
    pruned_cfg.defrost()
    pruned_cfg.MODEL.PRUNED_WIDTHS = widths
    pruned_cfg.freeze()
    header = (
        f"# {stem} pruned by akit export --prune {ratio} --importance {importance}: "
        f"{before[0] / 1e9:.3f} -> {after[0] / 1e9:.3f} GMACs per crop; weights: {pth_path.name}\n"
    )
    with staged(yaml_path) as tmp_yaml, staged(pth_path) as tmp_pth:
        tmp_yaml.write_text(header + dump_config(pruned_cfg), encoding="utf-8")
        torch.save({"state_dict": model.state_dict(), "config": dump_config(pruned_cfg)}, tmp_pth)
        reloaded = load_pose_model(tmp_yaml, tmp_pth, "cpu")
        with torch.no_grad():
            if not torch.equal(reloaded(example), model(example)):
                raise AkitError("the saved pruned network does not reproduce the pruned one; nothing written")
    return PruneResult(model, pruned_cfg, (before[0], after[0]), (before[1], after[1]), widths, yaml_path, pth_path)
