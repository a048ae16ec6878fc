"""``akit eval``: COCO keypoint AP of a pose model (ground-truth or detected boxes) or of an existing results file.

The flags are made from :class:`~alphapose_kit.evaluation.options.EvalOptions`'s fields; the work is
:func:`alphapose_kit.evaluation.evaluate`. Under torchrun only rank 0 prints.
"""

from __future__ import annotations

from typing import Any

import typer

from alphapose_kit.cli.options_signature import apply_signature, trailing_opts
from alphapose_kit.evaluation.options import EvalOptions
from alphapose_kit.utils.logging import is_main_process

_SPECIAL = ("opts",)  # the trailing --opts KEY VALUE pairs


def eval_command(ctx: typer.Context, **flags: Any) -> None:
    """Score poses with COCO's keypoint metric (AlphaPose's validation), plus per-joint and left/right diagnostics.

    akit eval --coco person_keypoints_val2017.json --images val2017 --checkpoint W [--boxes gt,dets.json] [--flip]
    akit eval --coco person_keypoints_val2017.json --results alphapose-results.json
    """
    from alphapose_kit.evaluation import evaluate

    options = EvalOptions(opts=trailing_opts(list(ctx.args), "eval"), **flags)
    metrics = evaluate(options=options)
    if options.quiet or not is_main_process():
        return
    typer.echo(report(metrics))


def report(metrics: dict[str, Any]) -> str:
    """The printed summary: per pass, pycocotools' table, the per-joint table and swaps; then the output folder."""
    from alphapose_kit.evaluation.diagnostics import format_joints
    from alphapose_kit.evaluation.metric import STAT_KEYS, format_table

    if "mota" in metrics:  # --posetrack
        numbers = ", ".join(
            f"{label} {metrics[key]:.1f}" if metrics[key] is not None else f"{label} -"
            for key, label in (("mota", "MOTA"), ("motp", "MOTP"), ("idf1", "IDF1"))
        )
        return f"{metrics['sequences']} sequences, {metrics['frames']} frames: {numbers}, " + (
            f"{metrics['num_switches']} ID switches\n-> {metrics['outdir']}"
        )
    passes = {"": metrics} if "AP" in metrics else {k: v for k, v in metrics.items() if isinstance(v, dict)}
    blocks = []
    for name, scored in passes.items():
        title = f"{name} boxes: " if name else ""
        notes = [
            f"{scored[key]} {label}"
            for key, label in (
                ("unmatched_results", "results name no image of the annotation file (left out)"),
                ("images_without_results", "annotated images have no result (not scored)"),
                ("unmatched_detections", "detections name no image of the annotation file (left out)"),
                ("images_without_boxes", "annotated images have no detection (their people count as missed)"),
            )
            if scored.get(key)
        ]
        blocks.append(
            f"{title}{scored['results']} results on {scored['images']} images" + "".join(f"; {n}" for n in notes)
        )
        blocks.append(format_table(scored))
        if "per_joint" in scored:
            blocks.append(format_joints(scored))
        if "parts" in scored:  # whole-body sets: COCO-WholeBody's AP of each part
            blocks.append("  AP per part: " + ", ".join(f"{part} {v['AP']:.3f}" for part, v in scored["parts"].items()))
    if len(passes) == 2:
        gt, det = passes["gt"], passes["det"]
        blocks.append("            " + " ".join(f"{k:>6}" for k in STAT_KEYS))
        for name, scored in (("gt boxes ", gt), ("det boxes", det)):
            blocks.append(f"  {name} " + " ".join(f"{scored[k]:6.3f}" for k in STAT_KEYS))
        gap = gt["AP"] - det["AP"]
        blocks.append(f"  AP gt - det {gap:+.3f}: what the detector costs (the gt-box AP is the pose model's own)")
    blocks.append(f"-> {metrics['outdir']}")
    return "\n".join(blocks)


apply_signature(eval_command, EvalOptions)
