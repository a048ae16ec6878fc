"""A YOLO network as a person detector: letterbox, batched forward, filtering, NMS, back to image pixels.

The network's eval forward on N x 3 x S x S letterboxed RGB/255 input must return the YOLO prediction tensor
(N, anchors, 5 + classes): cx, cy, w, h in input pixels, objectness (sigmoid), class scores (sigmoid); or a
tuple/list whose first element is that tensor (YOLOv5).

Defaults reproduce AlphaPose's YOLOv3-SPP post-processing (detector/yolo_cfg.py, write_results):
keep objectness > conf (strict); class = argmax of the class scores; keep the person class; score = objectness;
NMS per class in letterbox coordinates with the legacy Fast R-CNN CPU kernel (areas and intersections with
+1 widths, suppress IoU >= thr); then the float-offset inverse letterbox and clamping.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

import numpy as np
import torch
from torch import nn

from alphapose_kit.config.sizes import is_multiple_of_32
from alphapose_kit.detectors.base import Detections
from alphapose_kit.detectors.letterbox import (
    as_bgr,
    letterbox_batch,
    pad_batch,
    ultralytics_letterbox_batch,
    ultralytics_unletterbox_boxes,
    unletterbox_boxes,
    unpad_boxes,
)
from alphapose_kit.errors import AkitError
from alphapose_kit.utils.device import as_device

SCORES = ("objectness", "objectness*class", "yolox")
# preprocess name -> (frames to network input, boxes in input pixels back to the frame's)
_INPUTS: dict[str, tuple[Callable[..., torch.Tensor], Callable[..., np.ndarray]]] = {
    "letterbox": (letterbox_batch, unletterbox_boxes),
    "yolox": (pad_batch, unpad_boxes),
    "ultralytics": (ultralytics_letterbox_batch, ultralytics_unletterbox_boxes),
}
INPUTS = tuple(_INPUTS)


def inclusive_threshold(thr: float) -> float:
    """The threshold t for which torchvision's "suppress IoU > t" equals "suppress IoU >= thr".

    Both kernels compute the IoU in float32 and compare it with a double threshold, so for a float32 IoU
    ``iou >= thr`` holds exactly when ``iou > t`` with t = the float32 just below the smallest float32 >= thr.
    """
    first = np.float32(thr)
    if float(first) < thr:
        first = np.nextafter(first, np.float32(np.inf))
    return float(np.nextafter(first, np.float32(-np.inf)))


def nms_keep(boxes: torch.Tensor, scores: torch.Tensor, thr: float, legacy_box_plus1: bool) -> torch.Tensor:
    """Indices kept by greedy NMS on CPU float32 boxes, in descending score order.

    ``legacy_box_plus1``: AlphaPose's kernel, area = (x2-x1+1)(y2-y1+1), the same +1 in the intersection,
    and IoU >= thr suppressed. Shifting x2, y2 by +1 gives torchvision exactly those areas and intersections.
    Otherwise plain torchvision semantics (no +1, IoU > thr suppressed), as Ultralytics uses.
    """
    if legacy_box_plus1:
        boxes = boxes.clone()
        boxes[:, 2:] += 1
        thr = inclusive_threshold(thr)
    from torchvision.ops import nms  # lazy: torchvision costs seconds at start-up and a detfile run never needs it

    return nms(boxes, scores, thr)


class YOLODetector:
    """Turns a YOLO network into ``detector(frames) -> list[Detections]``.

    Args:
        model: the network (see the module docstring for its output); moved to ``device`` and set to eval.
        input_size: letterbox side S (a multiple of 32). AlphaPose: 608.
        conf: keep candidates whose score is strictly above this. With ``score="objectness"`` the test is on
            objectness alone (AlphaPose: 0.1; 0.3 when tracking); with ``"objectness*class"`` both objectness
            and objectness x class score must pass it (Ultralytics: 0.25).
        nms: IoU threshold of the per-class NMS. AlphaPose: 0.6; Ultralytics: 0.45.
        batch_size: frames per forward pass. Results do not depend on it (unless ``legacy_batch_renms``).
        device: where the network runs: a torch.device (or a string such as ``cuda:0``, resolved here). Filtering
            starts there;
            NMS always runs on CPU in float32, as AlphaPose's CPU kernel does, so results do not depend on
            the device's NMS implementation.
        half: run the network in float16 (CUDA only); post-processing stays float32.
        classes: class indices to keep after the argmax (COCO 0 = person).
        score: ``"objectness"`` (AlphaPose: the score passed on and used by NMS is objectness only),
            ``"objectness*class"`` (Ultralytics: objectness times the best class score) or ``"yolox"``
            (AlphaPose's YOLOX postprocess: keep objectness x class >= conf, NMS on it, pass on objectness).
        preprocess: ``"letterbox"`` (AlphaPose's centred letterbox, RGB / 255), ``"yolox"`` (top-left padding
            with 114, BGR 0-255: :func:`~alphapose_kit.detectors.letterbox.pad_batch`) or ``"ultralytics"``
            (Ultralytics' square letterbox, RGB / 255: :func:`.letterbox.ultralytics_letterbox`).
        legacy_box_plus1: AlphaPose's NMS kernel (+1 widths, suppress IoU >= thr); False = torchvision's.
        max_det: keep at most this many boxes per image (highest scores); None = no limit (AlphaPose).
        legacy_batch_renms: AlphaPose QUIRK, off by default: when a whole forward batch (a short last batch
            counted as padded with copies of its first frame) keeps more than 100 boxes, redo its NMS with
            threshold nms - 0.05. It makes one frame's boxes depend on which other frames share its batch
            (and so on batch_size and frame order), which is why it is off; turn it on only to reproduce
            AlphaPose runs exactly (with batch_size = its --detbatch).
    """

    def __init__(
        self,
        model: nn.Module,
        input_size: int = 608,
        conf: float = 0.1,
        nms: float = 0.6,
        batch_size: int = 5,
        device: str | torch.device = "cpu",
        half: bool = False,
        classes: Sequence[int] | None = (0,),
        score: str = "objectness",
        legacy_box_plus1: bool = True,
        max_det: int | None = None,
        legacy_batch_renms: bool = False,
        preprocess: str = "letterbox",
    ) -> None:
        if not isinstance(input_size, int) or not is_multiple_of_32(input_size):
            raise AkitError(f"detector input_size must be a positive multiple of 32, got {input_size!r}")
        if not 0.0 <= conf < 1.0:
            raise AkitError(f"detector conf must be in [0, 1), got {conf!r}")
        if not 0.0 <= nms <= 1.0:
            raise AkitError(f"detector nms threshold must be in [0, 1], got {nms!r}")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise AkitError(f"detector batch_size must be a positive integer, got {batch_size!r}")
        if score not in SCORES:
            raise AkitError(f"detector score must be one of {', '.join(SCORES)}, got {score!r}")
        if preprocess not in INPUTS:
            raise AkitError(f"detector preprocess must be one of {', '.join(INPUTS)}, got {preprocess!r}")
        if max_det is not None and (not isinstance(max_det, int) or max_det < 1):
            raise AkitError(f"detector max_det must be a positive integer or None, got {max_det!r}")
        self.device = as_device(device)
        if half and self.device.type != "cuda":
            raise AkitError("half precision needs a CUDA device; drop half or use device='cuda'")
        self.model = model.to(self.device).eval().to(memory_format=torch.channels_last)  # faster on CPU and CUDA
        if half:
            self.model.half()
        self.input_size = input_size
        self.conf = float(conf)
        self.nms = float(nms)
        self.batch_size = batch_size
        self.half = bool(half)
        self.classes = None if classes is None else tuple(int(c) for c in classes)
        self.score = score
        self.legacy_box_plus1 = bool(legacy_box_plus1)
        self.max_det = max_det
        self.legacy_batch_renms = bool(legacy_batch_renms)
        self.preprocess = preprocess

    def __call__(self, frames: Sequence[np.ndarray], image_ids: Sequence[Hashable] | None = None) -> list[Detections]:
        """One :class:`Detections` per BGR uint8 frame, boxes in that frame's pixels. ``image_ids`` is unused."""
        frames = [as_bgr(frame) for frame in frames]
        results: list[Detections] = []
        for start in range(0, len(frames), self.batch_size):
            results.extend(self._detect_batch(frames[start : start + self.batch_size]))
        return results

    def forward(self, frames: Sequence[np.ndarray]) -> torch.Tensor:
        """The raw float32 prediction tensor (N, anchors, 5 + classes) for BGR frames, on ``self.device``."""
        prepare = _INPUTS[self.preprocess][0]
        inputs = prepare(frames, self.input_size, self.device).contiguous(memory_format=torch.channels_last)
        if self.half:
            inputs = inputs.half()
        with torch.inference_mode():
            pred = self.model(inputs)
        if isinstance(pred, (tuple, list)):
            pred = pred[0]
        if not isinstance(pred, torch.Tensor) or pred.ndim != 3 or pred.shape[0] != len(frames):
            got = tuple(pred.shape) if isinstance(pred, torch.Tensor) else type(pred).__name__
            raise AkitError(f"the detector network returned {got}; expected ({len(frames)}, anchors, 5 + classes)")
        num_classes = pred.shape[2] - 5
        if num_classes < 1:
            raise AkitError(f"the detector network returned {pred.shape[2]} values per box; expected 5 + classes")
        if self.classes is not None and any(not 0 <= c < num_classes for c in self.classes):
            raise AkitError(f"detector classes {self.classes} are outside the network's 0..{num_classes - 1}")
        return pred.float()

    def _detect_batch(self, frames: list[np.ndarray]) -> list[Detections]:
        pred = self.forward(frames)
        candidates = [self._candidates(p) for p in pred]
        kept = [self._nms(*c[:3], self.nms) for c in candidates]
        if self.legacy_batch_renms:
            padding = self.batch_size - len(frames)  # AlphaPose repeats the first frame to fill the batch
            total = sum(len(k) for k in kept) + padding * len(kept[0])
            if total > 100:
                thr = self.nms - 0.05  # the same float arithmetic as the original (0.6 - 0.05 != 0.55)
                kept = [self._nms(*c[:3], thr) for c in candidates]
        results = []
        restore = _INPUTS[self.preprocess][1]
        for frame, (boxes, _, labels, reported), keep in zip(frames, candidates, kept, strict=True):
            if self.max_det is not None:
                keep = keep[: self.max_det]
            height, width = frame.shape[:2]
            results.append(
                Detections(
                    boxes=restore(boxes[keep].numpy(), width, height, self.input_size),
                    scores=reported[keep].numpy(),
                    labels=labels[keep].numpy(),
                )
            )
        return results

    def _candidates(self, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Filter one image's (anchors, 5 + C) predictions; CPU float32 boxes x1y1x2y2, NMS scores, labels and the
        scores passed on."""
        objectness = pred[:, 4]
        class_score, labels = pred[:, 5:].max(1)
        scores = objectness
        if self.score == "yolox":
            scores = objectness * class_score
            keep = scores >= self.conf
        else:
            keep = objectness > self.conf
        if self.score == "objectness*class":
            scores = objectness * class_score
            keep &= scores > self.conf
        if self.classes is not None:
            keep &= torch.isin(labels, torch.tensor(self.classes, device=labels.device))
        rows = torch.nonzero(keep).flatten()  # one gather of the 4 box columns, not of every 5 + C row
        reported = objectness[rows] if self.score == "yolox" else scores[rows]
        pred, scores, labels = pred[rows, :4], scores[rows], labels[rows]
        cxcy, half_wh = pred[:, 0:2], pred[:, 2:4] / 2
        boxes = torch.cat([cxcy - half_wh, cxcy + half_wh], 1)
        return boxes.cpu(), scores.cpu(), labels.cpu(), reported.cpu()

    def _nms(self, boxes: torch.Tensor, scores: torch.Tensor, labels: torch.Tensor, thr: float) -> torch.Tensor:
        """Per-class NMS; kept indices ordered by descending score (ties: lower index first)."""
        kept = [
            idx[nms_keep(boxes[idx], scores[idx], thr, self.legacy_box_plus1)]
            for idx in (torch.nonzero(labels == c).flatten() for c in torch.unique(labels))
        ]
        if not kept:
            return torch.zeros(0, dtype=torch.long)
        keep = torch.cat(kept)
        return keep[torch.sort(scores[keep], descending=True, stable=True).indices]

    def __repr__(self) -> str:
        return (
            f"YOLODetector({type(self.model).__name__}, input_size={self.input_size}, conf={self.conf}, "
            f"nms={self.nms}, score={self.score!r}, classes={self.classes}, device={self.device})"
        )
