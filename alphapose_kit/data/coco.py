"""COCO-format keypoint annotations and the person dataset read from them (``CocoKeypoints``).

Follows AlphaPose's ``Mscoco`` dataset (Fang et al., "AlphaPose", TPAMI 2022; ``alphapose/datasets/mscoco.py``,
``custom.py`` and ``presets/simple_transform.py`` at c60106d1): which people are kept, the ground-truth box
convention (``x2 = x + max(w - 1, 0)``, clipped to the image), and the validation sample (crop of the box enlarged
1.25x, the crop box the decoder maps back with, the targets of the config's codec). Training augmentation is a separate
transform step so that it can be added beside the validation one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch.utils.data import Dataset
from yacs.config import CfgNode

from alphapose_kit.codecs import PoseCodec, build_codec
from alphapose_kit.data.augment import EpochTransform, as_tensors
from alphapose_kit.data.hands import HandIndex, hand_index, hand_samples, is_single_hand
from alphapose_kit.data.keypoints import KeypointSet, get_keypoint_set, keypoint_set_of
from alphapose_kit.data.transforms import (
    affine_transform_points,
    box_to_center_scale,
    crop_people,
    get_affine_transform,
)
from alphapose_kit.data.wholebody import COCO_WHOLEBODY133
from alphapose_kit.data.wholebody_ann import has_wholebody_parts, name_index, take_joints, wholebody_triples
from alphapose_kit.errors import AkitError, ConfigError

#: The visibility value from which a joint counts as labelled when read into these keypoint sets, as AlphaPose's
#: dataset classes read them (``halpe_26.py``, ``halpe_136.py``, ``coco_wholebody.py``,
#: ``halpe_coco_wholebody_136.py``: ``v >= 0.35``; ``halpe_68_noface.py``: ``v >= 0.25``); any other set keeps
#: ``Mscoco``'s weight ``min(1, v)``.
LABELLED_FROM = {"halpe26": 0.35, "halpe136": 0.35, "coco_wholebody133": 0.35, "halpe68": 0.25}

#: A keypoint set read from another layout must find at least this share of its joints there by name.
MIN_SHARED_JOINTS = 0.5

#: AlphaPose's mixed training sets (``DATASET.TRAIN.TYPE`` with lists of ROOT / IMG_PREFIX / ANN): how many times each
#: file's people are listed, in the config's order (``halpe_coco_wholebody_136.py`` and ``halpe_coco_wholebody_26.py``:
#: every Halpe person six times, then each COCO-WholeBody person once).
MIXED_REPEATS: dict[str, tuple[int, ...]] = {"Halpe_coco_wholebody_136": (6, 1), "Halpe_coco_wholebody_26": (6, 1)}


def read_rgb(path: str | Path) -> NDArray[np.uint8]:
    """An image file as RGB uint8, read like AlphaPose (``cv2.imread``: EXIF orientation applied, then BGR -> RGB)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise AkitError(f"cannot read image {path}")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class CocoAnnotations:
    """A COCO keypoint annotation file, checked once: its images, the person category and the joint count K.

    ``num_joints`` is the K of the ``keypoints`` lists (what COCO's keypoint metric scores). A COCO-WholeBody file
    (parts in ``foot_kpts``, ``face_kpts``, ``lefthand_kpts``, ``righthand_kpts``) has :attr:`layout`
    ``coco_wholebody133`` and :attr:`joint_count` 133 (its ``keypoints`` hold the 17 body joints); any other file
    has ``joint_count == num_joints``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.data = self._read()
        self.images: dict[int, dict[str, Any]] = {}
        for entry in self.data["images"]:
            if not isinstance(entry, dict) or "id" not in entry or "file_name" not in entry:
                raise self._fail("every entry of 'images' needs an 'id' and a 'file_name'")
            self.images[int(entry["id"])] = entry
        categories = self.data.get("categories") or []
        person = [c for c in categories if c.get("name") == "person"] or categories[:1]
        self.category_id: int = int(person[0]["id"]) if person else 1
        self.num_joints = self._joint_count(person[0] if person else {})

    def _fail(self, problem: str) -> AkitError:
        return AkitError(f"annotation file {self.path}: {problem}")

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise AkitError(f"annotation file not found: {self.path}") from None
        except (OSError, UnicodeDecodeError) as err:
            raise self._fail(f"cannot be read ({err})") from None
        except json.JSONDecodeError as err:
            raise self._fail(f"is not valid JSON ({err.msg} at line {err.lineno})") from None
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise self._fail("is not a COCO annotation file (no 'images' list)")
        if not isinstance(data.get("annotations"), list):
            raise self._fail("is not a COCO annotation file (no 'annotations' list)")
        return data

    def _joint_count(self, category: dict[str, Any]) -> int:
        with_keypoints = [a for a in self.data["annotations"] if a.get("keypoints")]
        if not with_keypoints:
            raise self._fail("has no keypoints (a keypoint annotation has 'keypoints': [x1, y1, v1, ...] per person)")
        self.layout: KeypointSet | None = None
        if any(has_wholebody_parts(a) for a in with_keypoints):
            self.layout = COCO_WHOLEBODY133
            for ann in with_keypoints:
                try:
                    wholebody_triples(ann)
                except ValueError as err:
                    raise self._fail(f"COCO-WholeBody annotation {ann.get('id')}: {err}") from None
            return len(with_keypoints[0]["keypoints"]) // 3
        lengths = {len(a["keypoints"]) for a in with_keypoints}
        if len(lengths) != 1 or next(iter(lengths)) % 3:
            raise self._fail(f"keypoint lists of different or non-triplet lengths: {sorted(lengths)}")
        k = next(iter(lengths)) // 3
        named = category.get("keypoints")
        if named and len(named) != k:
            raise self._fail(f"the category names {len(named)} keypoints but the annotations have {k}")
        return k

    @property
    def joint_count(self) -> int:
        """Joints per person over every part the file annotates (133 for COCO-WholeBody, else ``num_joints``)."""
        return self.layout.num_joints if self.layout is not None else self.num_joints

    def joint_triples(self, annotation: dict[str, Any]) -> NDArray[np.float64]:
        """``(K, 3)`` x, y, v of one annotation in the file's layout (COCO-WholeBody parts appended after the body)."""
        if self.layout is COCO_WHOLEBODY133:
            return wholebody_triples(annotation)
        return np.asarray(annotation["keypoints"], np.float64).reshape(self.num_joints, 3)

    def image_path(self, image_dir: str | Path, image_id: int) -> Path:
        """Where an image of this file lies under ``image_dir`` (its ``file_name``)."""
        return Path(image_dir) / str(self.images[image_id]["file_name"])

    def check_images(self, image_dir: str | Path, image_ids: Sequence[int] | None = None) -> None:
        """One line naming the first missing image and how many are missing (all images when ``image_ids`` is None)."""
        ids = sorted(self.images) if image_ids is None else list(image_ids)
        missing = [i for i in ids if not self.image_path(image_dir, i).is_file()]
        if missing:
            raise AkitError(
                f"{len(missing)} of {len(ids)} images of {self.path.name} are missing under {image_dir}; "
                f"first: {self.images[missing[0]]['file_name']}"
            )


@dataclass(frozen=True, eq=False)
class PersonLabel:
    """One annotated person as AlphaPose keeps it (``_check_load_keypoints``)."""

    image_id: int
    annotation_id: int
    path: Path
    bbox: NDArray[np.float64]  # (4,) x1, y1, x2, y2 in AlphaPose's ground-truth convention
    joints: NDArray[np.float32]  # (K, 3, 2) AlphaPose's joints_3d: [:, 0:2, 0] = x, y; [:, 0:2, 1] = min(1, v)
    width: int
    height: int


def gt_box(bbox: Sequence[float], width: float, height: float) -> tuple[float, float, float, float]:
    """COCO ``[x, y, w, h]`` -> AlphaPose's ground-truth ``x1, y1, x2, y2``: ``x2 = x + max(w - 1, 0)``, all four
    clipped to ``[0, W - 1] x [0, H - 1]`` (``bbox_xywh_to_xyxy`` then ``bbox_clip_xyxy``)."""
    x, y, w, h = (float(v) for v in bbox)
    x2, y2 = x + max(w - 1.0, 0.0), y + max(h - 1.0, 0.0)

    def clip(v: float, hi: float) -> float:
        return min(hi - 1.0, max(0.0, v))

    return clip(x, width), clip(y, height), clip(x2, width), clip(y2, height)


def joint_index(annotations: CocoAnnotations, keypoint_set: KeypointSet) -> NDArray[np.int64] | None:
    """Where each joint of ``keypoint_set`` lies in the file's layout (by joint name), None when the file's joints
    are the set's as they are; one line when the file cannot give the set's joints."""
    source = annotations.layout
    if source is None:
        if annotations.num_joints == keypoint_set.num_joints:
            return None
        try:
            source = get_keypoint_set(annotations.num_joints)
        except ConfigError:
            raise AkitError(
                f"the model predicts {keypoint_set.num_joints} joints but {annotations.path.name} "
                f"annotates {annotations.num_joints}"
            ) from None
    if source is keypoint_set:
        return None
    index = name_index(source, keypoint_set)
    shared = int((index >= 0).sum())
    if shared < MIN_SHARED_JOINTS * keypoint_set.num_joints:
        raise AkitError(
            f"{annotations.path.name} holds {source.name} joints, which name only {shared} of the "
            f"{keypoint_set.num_joints} joints of keypoint set {keypoint_set.name!r}; train on annotations of that set"
        )
    return index


def person_labels(
    annotations: CocoAnnotations, image_dir: str | Path, keypoint_set: KeypointSet | None = None
) -> list[PersonLabel]:
    """The people AlphaPose trains and validates on, images in id order, annotations in file order.

    Kept: not crowd, the person category, some keypoint value > 0, a positive ``area`` (the clipped box's area
    when the field is absent), a clipped box with x2 > x1 and y2 > y1, ``num_keypoints`` > 0 (when present) and
    at least one labelled joint. With ``keypoint_set`` the joints are read into that set by name
    (:func:`joint_index`; joints the file lacks are unlabelled) and labelled as AlphaPose's dataset class of that
    set labels them (:data:`LABELLED_FROM`); without it they stay in the file's layout, weight ``min(1, v)``. For
    the single-hand set each person gives its hands as samples (``alphapose_kit.data.hands``).
    """
    by_image: dict[int, list[dict[str, Any]]] = {}
    for ann in annotations.data["annotations"]:
        by_image.setdefault(int(ann.get("image_id", -1)), []).append(ann)
    hands = None if keypoint_set is None or not is_single_hand(keypoint_set) else _hand_index(annotations)
    index = None if keypoint_set is None or hands is not None else joint_index(annotations, keypoint_set)
    labelled_from = None if keypoint_set is None else LABELLED_FROM.get(keypoint_set.name)
    rng = np.random.default_rng(0)
    labels: list[PersonLabel] = []
    for image_id in sorted(annotations.images):
        entry = annotations.images[image_id]
        width, height = int(entry.get("width", 0)), int(entry.get("height", 0))
        for ann in by_image.get(image_id, []):
            if ann.get("iscrowd", 0) or int(ann.get("category_id", annotations.category_id)) != annotations.category_id:
                continue
            keypoints = ann.get("keypoints") or []
            if not keypoints or annotations.joint_triples(ann).max() == 0 or "bbox" not in ann:
                continue
            x1, y1, x2, y2 = gt_box(ann["bbox"], width, height)
            area = ann.get("area", (x2 - x1) * (y2 - y1))
            if area <= 0 or x2 <= x1 or y2 <= y1 or ann.get("num_keypoints", 1) == 0:
                continue
            triples = annotations.joint_triples(ann)
            path = annotations.image_path(image_dir, image_id)
            if hands is not None:
                labels.extend(
                    PersonLabel(image_id, int(ann.get("id", -1)), path, box, joints, width, height)
                    for box, joints in hand_samples(triples, hands, width, height, rng)
                )
                continue
            if index is not None:
                triples = take_joints(triples, index)
            joints = np.zeros((len(triples), 3, 2), np.float32)
            joints[:, 0, 0] = triples[:, 0]
            joints[:, 1, 0] = triples[:, 1]
            v = triples[:, 2:3]
            joints[:, 0:2, 1] = np.minimum(1, v) if labelled_from is None else v >= labelled_from
            if joints[:, 0, 1].sum() < 1:
                continue
            labels.append(
                PersonLabel(
                    image_id, int(ann.get("id", -1)), path, np.array([x1, y1, x2, y2], np.float64), joints, width,
                    height,
                )
            )  # fmt: skip
    return labels


def _hand_index(annotations: CocoAnnotations) -> HandIndex:
    """Both hands' joints in a whole-body file, for single-hand samples; one line when the file has no hands."""
    source = annotations.layout
    if source is None:
        try:
            source = get_keypoint_set(annotations.num_joints)
        except ConfigError:
            source = None
    index = None if source is None else hand_index(source)
    if index is None:
        raise AkitError(
            f"{annotations.path.name} has no hand joints: single-hand samples are cut from whole-body people "
            "(a COCO-WholeBody file, or Halpe's 136 / 68 joints)"
        )
    return index


class ValidationTransform:
    """AlphaPose's validation sample (``SimpleTransform.__call__`` with train=False): crop and the codec's targets.

    Crop: box -> centre/scale (aspect-fitted, x1.25), affine warp to the codec's input size, normalisation.
    Targets: labelled joints mapped into the crop and encoded by ``codec`` (heatmaps: AlphaPose's 13 x 13
    Gaussians at the feature stride, x divided by the *height* ratio as the original; weight = visibility, 0 when
    the Gaussian lies fully off the map).
    """

    def __init__(self, codec: PoseCodec) -> None:
        self.codec = codec
        self.input_size = codec.input_size  # (h, w)

    def __call__(self, image_rgb: NDArray[np.uint8], label: PersonLabel) -> dict[str, Any]:
        inp_h, inp_w = self.input_size
        center, scale = box_to_center_scale(label.bbox, aspect_ratio=float(inp_w) / inp_h)
        crops, crop_boxes = crop_people(image_rgb, center[None], scale[None], self.input_size)
        joints = label.joints.copy()
        labelled = joints[:, 0, 1] > 0
        trans = get_affine_transform(center, scale[0], (inp_w, inp_h))
        joints[labelled, 0:2, 0] = affine_transform_points(joints[labelled, 0:2, 0], trans)  # float64 -> float32
        target, weight = self.codec.encode(joints[:, 0:2, 0], joints[:, 0, 1])
        return {
            "image": torch.from_numpy(crops[0]),
            "target": as_tensors(target),
            "target_weight": as_tensors(weight),
            "box": torch.from_numpy(crop_boxes[0]),
        }


def reading_set(cfg: CfgNode, annotations: CocoAnnotations) -> KeypointSet | None:
    """The keypoint set a file's joints are read into: the config's (:func:`keypoint_set_of`); None when the file
    has the model's K joints as they are and the config names no known set (a custom K without a set)."""
    num_joints = int(cfg.DATA_PRESET.NUM_JOINTS)
    try:
        return keypoint_set_of(cfg)
    except ConfigError:
        if annotations.layout is None and annotations.num_joints == num_joints:
            return None
        raise AkitError(
            f"the model predicts {num_joints} joints but {annotations.path.name} annotates {annotations.joint_count}"
        ) from None


class CocoKeypoints(Dataset):
    """One sample per annotated person of a COCO keypoint file: ``load`` reads, ``transform`` makes the sample.

    A sample is a dict: ``image`` (3, H, W) float32 normalised crop, ``target`` and ``target_weight`` (the
    config's codec: heatmaps (K, h, w) and (K, 1, 1); integral: ``(2K,)`` each; Combined: [heatmaps, integral]
    pairs), ``box`` (4,) float32 (the crop box the decoder maps back with), ``image_id`` (the annotation's image
    id) and ``index``. ``train=False`` gives AlphaPose's validation sample exactly; ``train=True`` its augmented
    training sample. The joints are read into the config's keypoint set (:func:`person_labels`), so COCO-WholeBody
    and Halpe files serve any set whose joints they name; :meth:`add_source` appends further files (mixed sets).
    """

    def __init__(
        self,
        ann_file: str | Path | CocoAnnotations,
        image_dir: str | Path,
        cfg: CfgNode,
        train: bool = False,
        repeat: int = 1,
    ) -> None:
        self.annotations = ann_file if isinstance(ann_file, CocoAnnotations) else CocoAnnotations(ann_file)
        self.image_dir = Path(image_dir)
        self.train = train
        self.cfg = cfg
        self.labels: list[PersonLabel] = []
        self.sources: list[CocoAnnotations] = []
        self.add_source(self.annotations, self.image_dir, repeat)
        codec = build_codec(cfg)
        self.transform = ValidationTransform(codec)
        # training: AlphaPose's augmentation and the targets of the config's codec (alphapose_kit.data.augment)
        self.train_transform = EpochTransform(cfg, keypoint_set_of(cfg), codec) if train else None

    def add_source(self, annotations: CocoAnnotations, image_dir: str | Path, repeat: int = 1) -> None:
        """Append the people of another annotation file (read into the config's keypoint set), each ``repeat``
        times; every copy is its own sample index, so it gets its own augmentation draw."""
        labels = person_labels(annotations, image_dir, reading_set(self.cfg, annotations))
        self.labels.extend(label for label in labels for _ in range(repeat))
        self.sources.append(annotations)

    def set_epoch(self, epoch: int, dpg: bool = False) -> None:
        """Training: draw the samples of ``epoch`` (seeded by TRAIN.SEED, epoch, index), DPG jitter if ``dpg``."""
        if self.train_transform is not None:
            self.train_transform.set_epoch(epoch, dpg)

    def __len__(self) -> int:
        return len(self.labels)

    def load(self, index: int) -> tuple[NDArray[np.uint8], PersonLabel]:
        """The RGB image of sample ``index`` and its label (no transform)."""
        label = self.labels[index]
        return read_rgb(label.path), label

    def __getitem__(self, index: int) -> dict[str, Any]:
        image, label = self.load(index)
        sample: dict[str, Any] = (
            self.transform(image, label) if self.train_transform is None else self.train_transform(image, label, index)
        )
        sample["image_id"] = label.image_id
        sample["index"] = index
        return sample


def training_keypoints(sources: Sequence[tuple[Path, Path]], cfg: CfgNode) -> CocoKeypoints:
    """``CocoKeypoints(train=True)`` over one or several ``(annotation file, image folder)`` pairs, the people of a
    mixed set repeated as AlphaPose does (:data:`MIXED_REPEATS`); checks every file's images up front and refuses
    an empty set."""
    repeats: tuple[int, ...] = MIXED_REPEATS.get(str(cfg.DATASET.TRAIN.TYPE), ())
    if len(repeats) != len(sources):
        repeats = (1,) * len(sources)
    (first_ann, first_images), *rest = sources
    dataset = CocoKeypoints(first_ann, first_images, cfg, train=True, repeat=repeats[0])
    for (ann, images), repeat in zip(rest, repeats[1:], strict=True):
        dataset.add_source(CocoAnnotations(ann), images, repeat)
    used = {label.path for label in dataset.labels}
    for source, (_, images) in zip(dataset.sources, sources, strict=True):
        source.check_images(images, [i for i in source.images if source.image_path(images, i) in used])
    if len(dataset) == 0:
        raise AkitError(f"{', '.join(str(a) for a, _ in sources)}: no person with keypoints to train on")
    return dataset
