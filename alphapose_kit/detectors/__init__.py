"""Person detectors: ``load_detector(name) -> detector(frames) -> list[Detections]``."""

from __future__ import annotations

from alphapose_kit.detectors.base import Detections, Detector
from alphapose_kit.detectors.detfile import DetFileDetector
from alphapose_kit.detectors.factory import DETECTOR_NAMES, detector_defaults, detector_weights, load_detector
from alphapose_kit.detectors.yolo import YOLODetector

__all__ = [
    "DETECTOR_NAMES",
    "DetFileDetector",
    "Detections",
    "Detector",
    "YOLODetector",
    "detector_defaults",
    "detector_weights",
    "load_detector",
]
