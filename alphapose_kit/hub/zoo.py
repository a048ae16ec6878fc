"""The model zoo: names of official AlphaPose pose models and person detectors, their configs and weight files.

``resolve_weights("fastpose_res50_256x192")`` returns the cached checkpoint, downloading it into
``$AKIT_HOME/weights`` (default ``~/.cache/alphapose_kit/weights``) the first time. AP figures are AlphaPose's
(docs/MODEL_ZOO.md, YOLOv3 boxes, flip test): COCO val2017 for the COCO-17 models, Halpe's criterion for the
136-joint ones, COCO-WholeBody's for the 133-joint ones. Where AlphaPose's docs name no file (most whole-body
models are Google Drive ids only), the file name is akit's. sha256 is only set where it has been verified; until then
the downloader prints the hash of what it fetched so that it can be pinned here.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from alphapose_kit.config import shipped_configs_dir
from alphapose_kit.errors import AkitError, DownloadError

__all__ = [
    "ZooEntry",
    "akit_home",
    "config_path",
    "describe_entry",
    "ensure_weights",
    "find_by_file",
    "format_model_table",
    "get_entry",
    "list_models",
    "resolve_weights",
    "weights_path",
]

KINDS = ("pose", "detector", "lifter")
# where each keypoint set's AP in AlphaPose's MODEL_ZOO.md was measured
_AP_CRITERION = {
    "halpe136": "Halpe-FullBody's criterion",
    "coco_wholebody133": "COCO-WholeBody's criterion, whole body",
}
_DRIVE = "https://drive.google.com/uc?export=download&id={}"
_YOLOV5 = "https://github.com/ultralytics/yolov5/releases/download/v7.0/{}.pt"
# Ultralytics' assets repository: ultralytics 8.4 fetches its release names (GITHUB_ASSETS_NAMES: yolov8*, yolo11*...)
# from tag v8.4.0 (utils/downloads.py attempt_download_asset); the 8.3 series, which introduced YOLO11, from v8.3.0.
_ULTRALYTICS = tuple(
    f"https://github.com/ultralytics/assets/releases/download/{tag}/{{}}.pt" for tag in ("v8.4.0", "v8.3.0")
)


@dataclass(frozen=True)
class ZooEntry:
    """One downloadable model.

    ``config``: for pose models the akit config, relative to the repository's ``configs/`` folder; for detectors the
    detector name (its config is ``configs/detector/<name>.yaml``). ``urls``: official download addresses in order of
    preference, empty when no official weights exist. ``sha256``: None unless verified. ``ap``: COCO AP from
    AlphaPose's model zoo, None when not published. ``original_config``: the config's path in the AlphaPose repo.
    """

    name: str
    kind: str
    config: str
    urls: tuple[str, ...]
    filename: str
    sha256: str | None = None
    description: str = ""
    keypoints: str | None = None
    ap: float | None = None
    original_config: str | None = None

    @property
    def num_keypoints(self) -> int | None:
        """The pose model's joint count, read from its config (None for detectors)."""
        if self.kind != "pose":
            return None
        from alphapose_kit.config import load_config

        return int(load_config(config_path(self)).DATA_PRESET.NUM_JOINTS)


def _pose(
    name: str, config: str, filename: str, drive_id: str | None, description: str, ap: float | None,
    original: str | None, keypoints: str = "coco17",
) -> ZooEntry:  # fmt: skip
    urls = (_DRIVE.format(drive_id),) if drive_id else ()
    return ZooEntry(name, "pose", config, urls, filename, None, description, keypoints, ap, original)


_ENTRIES: tuple[ZooEntry, ...] = (
    _pose(
        "fastpose_res50_256x192", "coco/fastpose_res50_256x192.yaml", "fast_res50_256x192.pth",
        "1kQhnMRURFiy7NsdS8EFL-8vtqEXOgECn",
        "Fast Pose: SE-ResNet-50 + DUC head, COCO-17, 256x192 (AlphaPose's default model)",
        72.0, "configs/coco/resnet/256x192_res50_lr1e-3_1x.yaml",
    ),
    _pose(
        "fastpose_dcn_res50_256x192", "coco/fastpose_dcn_res50_256x192.yaml", "fast_dcn_res50_256x192.pth",
        "1zUz9YIk6eALCbZrukxD7kQ554nhi1pVv",
        "Fast Pose (DCN): SE-ResNet-50 with deformable convolutions in layers 2-4, COCO-17, 256x192",
        72.8, "configs/coco/resnet/256x192_res50_lr1e-3_2x-dcn.yaml",
    ),
    _pose(
        "fastpose_duc_shuffle_res50_256x192", "coco/fastpose_duc_shuffle_res50_256x192.yaml",
        "fast_421_res50-shuffle_256x192.pth", "1RlnL_YnnmgOM4L9L2szFdUnTjwptqtL-",
        "Fast Pose (DUC): pixel-unshuffle SE-ResNet-50 + 3-stage DUC head, COCO-17, 256x192",
        72.4, "configs/coco/resnet/256x192_res50_lr1e-3_1x-duc.yaml",
    ),
    _pose(
        "fastpose_duc_res152_256x192", "coco/fastpose_duc_res152_256x192.yaml", "fast_421_res152_256x192.pth",
        "1kfyedqyn8exjbbNmYq8XGd2EooQjPtF9",
        "Fast Pose (DUC): SE-ResNet-152 + 3-stage DUC head, COCO-17, 256x192 (most accurate COCO model)",
        73.3, "configs/coco/resnet/256x192_res152_lr1e-3_1x-duc.yaml",
    ),
    _pose(
        "simplepose_res50_256x192", "coco/simplepose_res50_256x192.yaml", "simple_res50_256x192.pth",
        "1nxyfUbvWDaaT9eDM7Y31ScSVPlGy6gfw",
        "Simple Baseline: ResNet-50 + 3 deconvolutions, COCO-17, 256x192",
        70.6, "configs/coco/resnet/256x192_res50_lr1e-3_1x-simple.yaml",
    ),
    _pose(
        "hrnet_w32_256x192", "coco/hrnet_w32_256x192.yaml", "hrnet_w32_256x192.pth",
        "1i63BPlOnp2vSjIZ7ni4Yp3RCPQwqe922",
        "HRNet-W32, COCO-17, 256x192",
        72.5, "configs/coco/hrnet/256x192_w32_lr1e-3.yaml",
    ),
    _pose(
        "hrnet_w48_256x192", "coco/hrnet_w48_256x192.yaml", "hrnet_w48_256x192.pth", None,
        "HRNet-W48, COCO-17, 256x192: no official AlphaPose weights exist; train your own "
        "(a checkpoint put at the weights path below is used under this name)",
        None, None,
    ),
    _pose(
        "halpe26_fastpose_res50_256x192", "halpe26/fastpose_res50_256x192.yaml", "halpe26_fast_res50_256x192.pth",
        "1S-ROA28de-1zvLv-hVfPFJ5tFBYOSITb",
        "Fast Pose: SE-ResNet-50 + DUC head, Halpe-26 body + feet, 256x192",
        None, "configs/halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml", keypoints="halpe26",
    ),
    *(
        _pose(name, config, filename, drive, description, ap, original, keypoints=keypoints)
        for name, config, filename, drive, description, ap, original, keypoints in (
            ("halpe136_fastpose_res50_256x192", "halpe136/fastpose_res50_256x192.yaml",
             "halpe136_fast50_256x192.pth", "1LbKM2TOxKdpIZoDxCo6ldmOf62pw6z8A",
             "Fast Pose: SE-ResNet-50, Halpe-136 whole body (body, feet, face, hands), heatmaps", 41.7,
             "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x.yaml", "halpe136"),
            ("halpe136_fastpose_res50_regression_256x192", "halpe136/fastpose_res50_regression_256x192.yaml",
             "halpe136_fast50_regression_256x192.pth", "1_10JYI3O-VbrAiONfL36UxLf9UXMoUYA",
             "Fast Pose: SE-ResNet-50, Halpe-136, symmetric integral regression", 44.1,
             "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml", "halpe136"),
            ("halpe136_fastpose_dcn_res50_regression_256x192", "halpe136/fastpose_dcn_res50_regression_256x192.yaml",
             "halpe136_fast50_dcn_regression_256x192.pth", "1S49aDYGVjEJpx4MnFu7TFzzsbp7Si6h_",
             "Fast Pose (DCN): SE-ResNet-50, Halpe-136, symmetric integral regression", 46.2,
             "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml", "halpe136"),
            ("halpe136_fastpose_dcn_res50_combined_256x192", "halpe136/fastpose_dcn_res50_combined_256x192.yaml",
             "halpe136_fast50_dcn_combined_256x192.pth", "1jt-V1Zh-eYgX_-2mrBTV9Ip6z7JjApEC",
             "Fast Pose (DCN): SE-ResNet-50, Halpe-136, combined loss (body heatmaps, face and hands regressed)", 45.4,
             "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml", "halpe136"),
            ("halpe136_fastpose_dcn_res50_combined_hand10_256x192",
             "halpe136/fastpose_dcn_res50_combined_256x192.yaml", "halpe136_fast50_dcn_combined_10hand_256x192.pth",
             "1nL2KYqxSnSZH8c7PRr_d9KEFxCEiyjAR",
             "Fast Pose (DCN): Halpe-136, combined loss trained with 10x hand weight (better hands, worse body)", 47.2,
             "configs/halpe_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml", "halpe136"),
            ("halpe136_fastpose_duc_res152_regression_256x192",
             "halpe136/fastpose_duc_res152_regression_256x192.yaml", "halpe136_fast152_duc_regression_256x192.pth",
             "1zZotfE3WsBe1BxKimlK56wwJuK9E4EDs", "Fast Pose (DUC): SE-ResNet-152, Halpe-136, regression", 45.1,
             "configs/halpe_136/resnet/256x192_res152_lr1e-3_1x-duc.yaml", "halpe136"),
            ("multi_domain_fastpose_res50_regression_256x192",
             "halpe136/multi_domain_fastpose_res50_regression_256x192.yaml",
             "multi_domain_fast50_regression_256x192.pth", "1Bb3kPoFFt-M0Y3ceqNO8DTXi1iNDd4gI",
             "Fast Pose: 136 joints trained on Halpe + COCO-WholeBody (multi-domain), regression; faster, better body",
             50.1, "configs/halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-regression.yaml", "halpe136"),
            ("multi_domain_fastpose_dcn_res50_combined_256x192",
             "halpe136/multi_domain_fastpose_dcn_res50_combined_256x192.yaml",
             "multi_domain_fast50_dcn_combined_256x192.pth", "1wX1Z2ZOoysgSNovlgiEtJKpbR8tUBWYR",
             "Fast Pose (DCN): 136 joints, multi-domain, combined loss (AlphaPose's recommended whole-body model)",
             49.8, "configs/halpe_coco_wholebody_136/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml", "halpe136"),
            ("coco_wholebody_fastpose_res50_regression_256x192",
             "coco_wholebody/fastpose_res50_regression_256x192.yaml",
             "coco_wholebody_fast50_regression_256x192.pth", "1WQlwRw7KiKBI2Wyb-lvnQX29R29NbhLz",
             "Fast Pose: SE-ResNet-50, COCO-WholeBody-133, regression", 55.4,
             "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-regression.yaml", "coco_wholebody133"),
            ("coco_wholebody_fastpose_dcn_res50_regression_256x192",
             "coco_wholebody/fastpose_dcn_res50_regression_256x192.yaml",
             "coco_wholebody_fast50_dcn_regression_256x192.pth", "10MgWM4rMORVaHNPyswal7RtrsehVV79X",
             "Fast Pose (DCN): SE-ResNet-50, COCO-WholeBody-133, regression", 57.7,
             "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml", "coco_wholebody133"),
            ("coco_wholebody_fastpose_res50_combined_256x192", "coco_wholebody/fastpose_res50_combined_256x192.yaml",
             "coco_wholebody_fast50_combined_256x192.pth", "14wrc9q96bYqUc2efT8p8XzdTvLm-LwUT",
             "Fast Pose: SE-ResNet-50, COCO-WholeBody-133, combined loss", 57.8,
             "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-combined.yaml", "coco_wholebody133"),
            ("coco_wholebody_fastpose_dcn_res50_combined_256x192",
             "coco_wholebody/fastpose_dcn_res50_combined_256x192.yaml",
             "coco_wholebody_fast50_dcn_combined_256x192.pth", "1aP0nYujw32H-VoJBVsXS-DsBBY-UwI8Y",
             "Fast Pose (DCN): SE-ResNet-50, COCO-WholeBody-133, combined loss (most accurate on COCO-WholeBody)", 58.2,
             "configs/coco_wholebody/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml", "coco_wholebody133"),
            ("coco_wholebody_fastpose_duc_res152_regression_256x192",
             "coco_wholebody/fastpose_duc_res152_regression_256x192.yaml",
             "coco_wholebody_fast152_duc_regression_256x192.pth", "1ktBwkG1KL3_iFbPXAh5gua0zX92p-1KV",
             "Fast Pose (DUC): SE-ResNet-152, COCO-WholeBody-133, regression", 56.9,
             "configs/coco_wholebody/resnet/256x192_res152_lr1e-3_1x-duc.yaml", "coco_wholebody133"),
            ("halpe68_fastpose_dcn_res50_combined_256x192", "halpe68/fastpose_dcn_res50_combined_256x192.yaml",
             "halpe68_noface_fast50_dcn_combined_256x192.pth", "14Qn9gxm-EVzqFi7v25Y5TqKIvrFLy_BR",
             "Fast Pose (DCN): Halpe-68, body + feet + hands without the face, multi-domain, combined loss", None,
             "configs/halpe_68_noface/resnet/256x192_res50_lr1e-3_2x-dcn-combined.yaml", "halpe68"),
            ("hand21_fastpose_dcn_res50_regression_256x192", "hand21/fastpose_dcn_res50_regression_256x192.yaml",
             "single_hand_fast50_dcn_regression_256x192.pth", "1MntndimlUP5Hxef1UN9ZDMBVglfA606J",
             "Fast Pose (DCN): one hand, 21 joints, regression; give it boxes around single hands", None,
             "configs/single_hand/resnet/256x192_res50_lr1e-3_2x-dcn-regression.yaml", "hand21"),
            ("hardnet68_256x192", "coco/hardnet68_256x192.yaml", "hardnet68_256x192.pth", None,
             "HarDNet-68 pose network, COCO-17: no official AlphaPose weights; train your own", None,
             "configs/coco/hardnet/256x192_hard68_lr1e-3_1x.yaml", "coco17"),
            ("hardnet85_256x192", "coco/hardnet85_256x192.yaml", "hardnet85_256x192.pth", None,
             "HarDNet-85 pose network, COCO-17: no official AlphaPose weights; train your own", None,
             "configs/coco/hardnet/256x192_hard85_lr1e-3_1x.yaml", "coco17"),
        )
    ),
    ZooEntry(
        "yolov3-spp", "detector", "yolov3-spp",
        (_DRIVE.format("1D47msNOOiJKvPOXlnpyzdKA3k6E97NTC"), "https://pjreddie.com/media/files/yolov3-spp.weights"),
        "yolov3-spp.weights", None,
        "YOLOv3-SPP (darknet, COCO-80, person class used), 608x608: AlphaPose's default person detector",
        original_config="detector/yolo/cfg/yolov3-spp.cfg",
    ),
    *(
        ZooEntry(
            f"yolov5{size}", "detector", f"yolov5{size}", (_YOLOV5.format(f"yolov5{size}"),), f"yolov5{size}.pt",
            None, f"YOLOv5{size} (Ultralytics v7.0, AGPL-3.0 weights, COCO-80, person class used), 640x640",
        )
        for size in "nsmlx"
    ),
    *(
        ZooEntry(
            f"yolox-{size}", "detector", f"yolox-{size}",
            (f"https://github.com/Megvii-BaseDetection/YOLOX/releases/download/0.1.1rc0/yolox_{size}.pth",),
            f"yolox_{size}.pth", None,
            f"YOLOX-{size} (Megvii, Apache-2.0, COCO-80, person class used), 640x640 with AlphaPose's YOLOX settings",
        )
        for size in ("nano", "tiny", "s", "m", "l", "x")
    ),
    *(
        ZooEntry(
            f"{family}{size}", "detector", f"{family}{size}", tuple(u.format(f"{family}{size}") for u in _ULTRALYTICS),
            f"{family}{size}.pt", None,
            f"{label}{size} (Ultralytics, AGPL-3.0 weights, COCO-80, person class used), 640x640 with Ultralytics' "
            "predict settings",
        )
        for family, label in (("yolov8", "YOLOv8"), ("yolo11", "YOLO11"))
        for size in "nsmlx"
    ),
    ZooEntry(
        "videopose3d_h36m_detectron_coco", "lifter", "",
        ("https://dl.fbaipublicfiles.com/video-pose-3d/pretrained_h36m_detectron_coco.bin",),
        "pretrained_h36m_detectron_coco.bin", None,
        "VideoPose3D (Pavllo et al. 2019; CC BY-NC 4.0 weights): 243-frame temporal lifter, COCO-17 2D keypoints "
        "in, Human3.6M-17 root-relative 3D joints (metres) out",
        keypoints="h36m17",
    ),
)  # fmt: skip

_REGISTRY: dict[str, ZooEntry] = {entry.name: entry for entry in _ENTRIES}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def list_models(kind: str | None = None) -> list[ZooEntry]:
    """All zoo entries (pose models first, then detectors), or those of one ``kind`` ("pose" / "detector")."""
    if kind is not None and kind not in KINDS:
        raise AkitError(f"unknown model kind {kind!r}; choose one of {', '.join(KINDS)}")
    return [entry for entry in _REGISTRY.values() if kind is None or entry.kind == kind]


def get_entry(name: str) -> ZooEntry:
    """The zoo entry called ``name`` (case, '-' and '_' do not matter; a weight file name works too)."""
    if name in _REGISTRY:
        return _REGISTRY[name]
    wanted = _normalise(name)
    for entry in _REGISTRY.values():
        if wanted in (_normalise(entry.name), _normalise(entry.filename), _normalise(Path(entry.filename).stem)):
            return entry
    raise AkitError(f"unknown model {name!r}; {_suggest(name)}")


def _suggest(name: str) -> str:
    names = list(_REGISTRY)
    by_normal = {_normalise(n): n for n in names}
    close = difflib.get_close_matches(_normalise(name), list(by_normal), n=3, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(by_normal[c]) for c in close) + "?"
    return f"known models: {', '.join(names)}"


def akit_home() -> Path:
    """akit's cache folder: ``$AKIT_HOME``, else ``~/.cache/alphapose_kit``."""
    home = os.environ.get("AKIT_HOME", "").strip()
    return Path(home).expanduser() if home else Path.home() / ".cache" / "alphapose_kit"


def weights_path(entry: ZooEntry) -> Path:
    """Where the weights of ``entry`` are cached: ``<akit_home>/weights/<filename>``."""
    return akit_home() / "weights" / entry.filename


def config_path(entry: ZooEntry) -> Path:
    """The akit config of ``entry``: ``configs/<config>`` for pose models, ``configs/detector/<name>.yaml`` else."""
    if entry.kind == "lifter":
        raise AkitError(f"{entry.name} is a 3D lifter: it has no config (its architecture is read from its weights)")
    if entry.kind == "detector":
        return shipped_configs_dir() / "detector" / f"{entry.config}.yaml"
    return shipped_configs_dir() / entry.config


def _looks_like_path(text: str) -> bool:
    return (
        os.sep in text
        or "/" in text
        or text.startswith("~")
        or Path(text).suffix.lower() in (".pth", ".pt", ".weights", ".ckpt", ".bin", ".pkl", ".tar")
    )


def _locate(name_or_path: str | os.PathLike, kind: str | None = None) -> tuple[Path, ZooEntry | None]:
    """The weight file a name or path means, and its zoo entry when it is a zoo name (the file may not exist yet).

    The one rule for every loader: a file that exists is used as it is; otherwise a zoo model name or a zoo file
    name without folders (``yolov5s``, ``yolov5s.pt``, ``fast_res50_256x192.pth``) means the zoo's cached copy;
    anything else is an error: "not found" for a path, "neither ... nor ..." for a name.
    """
    text = str(name_or_path)
    path = Path(text).expanduser()
    if path.is_file():
        return path, None
    if path.is_dir():
        raise AkitError(f"{text} is a directory, not a weights file")
    entry = None
    if len(Path(text).parts) == 1 and not text.startswith("~"):  # a bare name: perhaps a zoo model or zoo file
        try:
            entry = get_entry(text)
        except AkitError:
            entry = None
    if entry is None:
        if isinstance(name_or_path, os.PathLike) or _looks_like_path(text):
            raise AkitError(f"weights file not found: {text}")
        raise AkitError(f"{text!r} is neither a weights file nor a zoo model name; {_suggest(text)}")
    if kind is not None and entry.kind != kind:
        raise AkitError(f"{text!r} names the {entry.kind} model {entry.name}, not a {kind}")
    target = weights_path(entry)
    if not target.is_file() and not entry.urls:
        raise AkitError(
            f"{entry.name} has no official weights; train a model and pass its checkpoint, or put one at {target}"
        )
    return target, entry


def resolve_weights(name_or_path: str | os.PathLike, download: bool = True, kind: str | None = None) -> Path:
    """A weight file from a path or a zoo name (see :func:`_locate` for the rule), fetched into the cache if missing.

    ``kind`` ("pose" / "detector"): refuse a zoo name of the other kind. Both ``load_pose_model`` and
    ``load_detector`` resolve their weights here, so a bare file name means the same to both.
    """
    return ensure_weights([name_or_path], download=download, kind=kind)[0]


def ensure_weights(names: Sequence[str | os.PathLike], download: bool = True, kind: str | None = None) -> list[Path]:
    """Resolve several weights at once (e.g. a run's pose model and detector): every file that is missing and cannot
    be fetched is named in ONE error, with where to download it and where to put it, instead of one per run."""
    located = [_locate(name, kind) for name in names]
    missing = {target: entry for target, entry in located if entry is not None and not target.is_file()}
    if not download and missing:
        raise AkitError(
            " | ".join(
                f"weights of {e.name} are not downloaded; download them from {e.urls[0]} and put them at {t}"
                for t, e in missing.items()
            )
        )
    problems = []
    for target, entry in missing.items():  # one attempt per file, even if named twice
        from alphapose_kit.hub.download import download as fetch

        try:
            fetch(entry.urls, target, sha256=entry.sha256)
        except DownloadError as exc:
            problems.append(str(exc))
    if len(problems) > 1:
        raise DownloadError(f"{len(problems)} weight files could not be downloaded: " + " | ".join(problems))
    if problems:
        raise DownloadError(problems[0])
    return [target for target, _ in located]


def find_by_file(path: str | Path) -> ZooEntry | None:
    """The zoo entry a weight file is: by sha256 where entries have one pinned, else by file name."""
    path = Path(path).expanduser()
    pinned = [entry for entry in _REGISTRY.values() if entry.sha256]
    if pinned and path.is_file():
        from alphapose_kit.utils.hashing import file_sha256

        digest = file_sha256(path)
        for entry in pinned:
            if entry.sha256 and entry.sha256.lower() == digest:
                return entry
    for entry in _REGISTRY.values():
        if entry.sha256 is None and entry.filename == path.name:
            return entry
    return None


# --- text for the CLI ----------------------------------------------------------------------------------------


def _ap_text(entry: ZooEntry) -> str:
    return f"{entry.ap:.1f}" if entry.ap is not None else "-"


def _keypoints_text(entry: ZooEntry) -> str:
    return entry.keypoints or "-"


def format_model_table(entries: list[ZooEntry] | tuple[ZooEntry, ...] | None = None) -> str:
    """A plain-text table of zoo entries: name, kind, keypoints, COCO AP, weights cached, file."""
    entries = list_models() if entries is None else list(entries)
    header = ("NAME", "KIND", "KEYPOINTS", "AP", "CACHED", "FILE")
    rows = [
        (
            entry.name,
            entry.kind,
            _keypoints_text(entry),
            _ap_text(entry),
            "yes" if weights_path(entry).is_file() else "no",
            entry.filename + ("" if entry.urls else " (no official weights)"),
        )
        for entry in entries
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
             for row in (header, *rows)]  # fmt: skip
    lines.append(f"weights folder: {akit_home() / 'weights'} (set AKIT_HOME to move it)")
    return "\n".join(lines)


def describe_entry(entry: ZooEntry) -> str:
    """Several lines about one entry: what it is, its config, where its weights come from and go."""
    target = weights_path(entry)
    conf = config_path(entry) if entry.kind != "lifter" else None
    lines = [f"{entry.name} ({entry.kind})", f"  {entry.description}"]
    if entry.keypoints:
        lines.append(f"  keypoints:  {entry.keypoints} ({entry.num_keypoints} joints)")
    if entry.ap is not None:
        criterion = _AP_CRITERION.get(entry.keypoints or "", "COCO val2017")
        lines.append(f"  AP:         {entry.ap:.1f} (AlphaPose model zoo: {criterion}, YOLOv3 boxes, flip test)")
    if conf is not None:
        lines.append(f"  config:     {conf}{'' if conf.is_file() else ' (missing)'}")
    if entry.original_config:
        lines.append(f"  AlphaPose:  {entry.original_config}")
    state = "cached" if target.is_file() else "not downloaded yet"
    lines.append(f"  weights:    {target} ({state})")
    lines.append(f"  sha256:     {entry.sha256 or 'not pinned (printed after download)'}")
    if entry.urls:
        for i, url in enumerate(entry.urls):
            lines.append(f"  {'download:' if i == 0 else '':<11} {url}")
    else:
        lines.append("  download:   no official weights exist")
    return "\n".join(lines)
