"""YOLOv5 n/s/m/l/x: parameter counts from the layer table, output layout, decoding, and checkpoint loading.

Parameter counts are derived here by hand from the official layer table (models/yolov5*.yaml of Ultralytics
v6.0/v7.0), independently of the model code. Official checkpoints are imitated the way Ultralytics writes
them: a pickled ``models.yolo.DetectionModel`` (stand-in classes registered as ``models.*`` while saving,
removed before loading) in half precision under ``"model"`` / ``"ema"``. Malicious pickles must be refused
without running anything.
"""

from __future__ import annotations

import builtins
import copy
import io
import math
import os
import pickle
import subprocess
import sys
import types
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from alphapose_kit.detectors.nets.yolov5 import (
    C3,
    SPPF,
    VARIANTS,
    Bottleneck,
    Concat,
    Conv,
    Detect,
    YOLOv5,
    build_yolov5,
)
from alphapose_kit.detectors.nets.yolov5_checkpoint import ULTRALYTICS_CLASSES, load_yolov5_weights
from alphapose_kit.errors import CheckpointError, ConfigError
from alphapose_kit.io import safe_pickle

# --------------------------------------------------------------------------------------------------------------
# 1. Parameter counts by hand arithmetic, output shapes

# Ultralytics README "params (M)". They count the fused model (each BatchNorm folded into a conv bias, as
# detect.py prints it): c fewer parameters per BatchNorm of c channels than the trained, unfused network.
PUBLISHED_M = {"n": 1.9, "s": 7.2, "m": 21.2, "l": 46.5, "x": 86.7}


def conv_p(c1: int, c2: int, k: int, fused: bool = False) -> int:
    return c1 * c2 * k * k + (c2 if fused else 2 * c2)  # conv without bias + BN gamma, beta (fused: a bias)


def c3_p(c1: int, c2: int, n: int, fused: bool = False) -> int:
    h = c2 // 2  # cv1, cv2: 1x1 c1->h; cv3: 1x1 2h->c2; n bottlenecks of 1x1 h->h then 3x3 h->h
    return (
        2 * conv_p(c1, h, 1, fused)
        + conv_p(2 * h, c2, 1, fused)
        + n * (conv_p(h, h, 1, fused) + conv_p(h, h, 3, fused))
    )


def sppf_p(c1: int, c2: int, fused: bool = False) -> int:
    h = c1 // 2
    return conv_p(c1, h, 1, fused) + conv_p(4 * h, c2, 1, fused)


def hand_params(depth: float, width: float, nc: int = 80, fused: bool = False) -> int:
    def ch(c: int) -> int:
        return math.ceil(c * width / 8) * 8

    def rep(n: int) -> int:
        return max(round(n * depth), 1)

    f = fused
    c64, c128, c256, c512, c1024 = ch(64), ch(128), ch(256), ch(512), ch(1024)
    backbone = (
        conv_p(3, c64, 6, f)
        + conv_p(c64, c128, 3, f)
        + c3_p(c128, c128, rep(3), f)
        + conv_p(c128, c256, 3, f)
        + c3_p(c256, c256, rep(6), f)
        + conv_p(c256, c512, 3, f)
        + c3_p(c512, c512, rep(9), f)
        + conv_p(c512, c1024, 3, f)
        + c3_p(c1024, c1024, rep(3), f)
        + sppf_p(c1024, c1024, f)
    )
    head = (
        conv_p(c1024, c512, 1, f)  # 10
        + c3_p(c512 + c512, c512, rep(3), f)  # 13: cat(up(10), 6)
        + conv_p(c512, c256, 1, f)  # 14
        + c3_p(c256 + c256, c256, rep(3), f)  # 17: cat(up(14), 4)
        + conv_p(c256, c256, 3, f)  # 18
        + c3_p(c256 + c256, c512, rep(3), f)  # 20: cat(18, 14)
        + conv_p(c512, c512, 3, f)  # 21
        + c3_p(c512 + c512, c1024, rep(3), f)  # 23: cat(21, 10)
    )
    detect = sum(c * 3 * (nc + 5) + 3 * (nc + 5) for c in (c256, c512, c1024))
    return backbone + head + detect


# YOLOv5s written out (depth 0.33 -> C3 repeats 1, 2, 3, 1 and 1 in the head; width 0.5 -> 32..512 channels):
S_LAYERS = [
    3 * 32 * 36 + 64,  # 0 Conv 3->32 6x6                                  3520
    32 * 64 * 9 + 128,  # 1 Conv 32->64 3x3                                18560
    2 * (64 * 32 + 64) + (64 * 64 + 128) + (10 * 32 * 32 + 4 * 32),  # 2 C3 n=1        18816
    64 * 128 * 9 + 256,  # 3                                                73984
    2 * (128 * 64 + 128) + (128 * 128 + 256) + 2 * (10 * 64 * 64 + 4 * 64),  # 4 n=2  115712
    128 * 256 * 9 + 512,  # 5                                              295424
    2 * (256 * 128 + 256) + (256 * 256 + 512) + 3 * (10 * 128 * 128 + 4 * 128),  # 6  625152
    256 * 512 * 9 + 1024,  # 7                                            1180672
    2 * (512 * 256 + 512) + (512 * 512 + 1024) + (10 * 256 * 256 + 4 * 256),  # 8     1182720
    (512 * 256 + 512) + (1024 * 512 + 1024),  # 9 SPPF                     656896
    512 * 256 + 512,  # 10 Conv 1x1                                         131584
    0,  # 11 Upsample
    0,  # 12 Concat
    2 * (512 * 128 + 256) + (256 * 256 + 512) + (10 * 128 * 128 + 4 * 128),  # 13     361984
    256 * 128 + 256,  # 14                                                   33024
    0,
    0,
    2 * (256 * 64 + 128) + (128 * 128 + 256) + (10 * 64 * 64 + 4 * 64),  # 17          90880
    128 * 128 * 9 + 256,  # 18                                             147712
    0,
    2 * (256 * 128 + 256) + (256 * 256 + 512) + (10 * 128 * 128 + 4 * 128),  # 20     296448
    256 * 256 * 9 + 512,  # 21                                             590336
    0,
    2 * (512 * 256 + 512) + (512 * 512 + 1024) + (10 * 256 * 256 + 4 * 256),  # 23    1182720
    (128 + 256 + 512) * 255 + 3 * 255,  # 24 Detect                        229245
]


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_yolov5s_layer_by_layer() -> None:
    with torch.device("meta"):
        model = build_yolov5("s")
    assert [n_params(layer) for layer in model.model] == S_LAYERS
    assert sum(S_LAYERS) == 7_235_389 == hand_params(*VARIANTS["s"])


@pytest.mark.parametrize("variant", list("nsmlx"))
def test_parameter_counts(variant: str) -> None:
    with torch.device("meta"):  # no memory, no init time, even for x
        model = build_yolov5(variant)
    count = n_params(model)
    assert count == hand_params(*VARIANTS[variant])
    bn_channels = sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    fused = hand_params(*VARIANTS[variant], fused=True)
    assert fused == count - bn_channels
    # n 1867405, s 7225885, m 21172173, l 46533693, x 86705005: the README's figures to its 0.1M rounding,
    # and within 1% (n: 1.87M is 1.7% from the rounded 1.9M)
    assert round(fused / 1e6, 1) == PUBLISHED_M[variant]
    assert variant == "n" or abs(fused / 1e6 - PUBLISHED_M[variant]) / PUBLISHED_M[variant] < 0.01
    assert model.num_classes == 80 and model.strides == (8, 16, 32) and model.names is None
    assert model.variant == variant


@pytest.mark.parametrize("variant", ["n", "s"])
def test_output_shape(variant: str) -> None:
    torch.manual_seed(0)
    model = build_yolov5(variant).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 320, 320))
    assert isinstance(out, tuple)
    assert out[0].shape == (1, 3 * (10**2 + 20**2 + 40**2), 85)
    assert torch.isfinite(out[0]).all()
    assert (out[0][..., 4:] >= 0).all() and (out[0][..., 4:] <= 1).all()
    model.train()
    raw = model(torch.rand(2, 3, 64, 64))
    assert isinstance(raw, list) and [tuple(r.shape) for r in raw] == [
        (2, 3, 8, 8, 85),
        (2, 3, 4, 4, 85),
        (2, 3, 2, 2, 85),
    ]


def test_state_dict_keys_are_official() -> None:
    with torch.device("meta"):
        keys = list(build_yolov5("s").state_dict())
    assert keys[:6] == [
        "model.0.conv.weight",
        "model.0.bn.weight",
        "model.0.bn.bias",
        "model.0.bn.running_mean",
        "model.0.bn.running_var",
        "model.0.bn.num_batches_tracked",
    ]
    assert "model.2.m.0.cv2.conv.weight" in keys and "model.9.cv2.bn.running_var" in keys
    assert keys[-7:] == ["model.24.anchors"] + [f"model.24.m.{i}.{p}" for i in range(3) for p in ("weight", "bias")]


def test_unknown_variant() -> None:
    with pytest.raises(ConfigError, match="unknown YOLOv5 variant"):
        build_yolov5("q")
    assert build_yolov5("yolov5n").variant == "n"


# --------------------------------------------------------------------------------------------------------------
# 2. Checkpoints saved the way Ultralytics saves them

COCO_NAMES = {i: f"class{i}" for i in range(80)} | {0: "person"}


# The model file of Ultralytics YOLOv5 v7.0, models/yolov5s.yaml (github.com/ultralytics/yolov5, tag v7.0; the
# same table since v6.0), reduced to its data: comments dropped, the multiples left as fields. Its spelling is what
# matters here: module names bare, ``None`` bare (YAML reads it as the string 'None'), ``False`` a YAML boolean.
YOLOV5_YAML = """
nc: 80
depth_multiple: {depth}
width_multiple: {width}
anchors:
  - [10,13, 16,30, 33,23]
  - [30,61, 62,45, 59,119]
  - [116,90, 156,198, 373,326]
backbone:
  [[-1, 1, Conv, [64, 6, 2, 2]],
   [-1, 1, Conv, [128, 3, 2]],
   [-1, 3, C3, [128]],
   [-1, 1, Conv, [256, 3, 2]],
   [-1, 6, C3, [256]],
   [-1, 1, Conv, [512, 3, 2]],
   [-1, 9, C3, [512]],
   [-1, 1, Conv, [1024, 3, 2]],
   [-1, 3, C3, [1024]],
   [-1, 1, SPPF, [1024, 5]],
  ]
head:
  [[-1, 1, Conv, [512, 1, 1]],
   [-1, 1, nn.Upsample, [None, 2, 'nearest']],
   [[-1, 6], 1, Concat, [1]],
   [-1, 3, C3, [512, False]],
   [-1, 1, Conv, [256, 1, 1]],
   [-1, 1, nn.Upsample, [None, 2, 'nearest']],
   [[-1, 4], 1, Concat, [1]],
   [-1, 3, C3, [256, False]],
   [-1, 1, Conv, [256, 3, 2]],
   [[-1, 14], 1, Concat, [1]],
   [-1, 3, C3, [512, False]],
   [-1, 1, Conv, [512, 3, 2]],
   [[-1, 10], 1, Concat, [1]],
   [-1, 3, C3, [1024, False]],
   [[17, 20, 23], 1, Detect, [nc, anchors]],
  ]
"""


def official_yaml(variant: str, none: str = "yaml") -> dict:
    """``Model.yaml`` as Ultralytics stores it: the file parsed by ``yaml.safe_load``, plus the ``ch`` it adds.

    ``none="python"``: the Upsample's None as a Python None instead (a model built from a dict in code).
    """
    depth, width = VARIANTS[variant]
    parsed = yaml.safe_load(YOLOV5_YAML.format(depth=depth, width=width))
    parsed["ch"] = 3
    if none == "python":
        for layer in parsed["head"]:
            layer[3] = [None if a == "None" else a for a in layer[3]]
    return parsed


def test_official_yaml_spells_none_as_a_string() -> None:
    parsed = official_yaml("s")
    assert parsed["head"][1] == [-1, 1, "nn.Upsample", ["None", 2, "nearest"]]
    assert parsed["head"][3] == [-1, 3, "C3", [512, False]] and parsed["head"][-1][3] == ["nc", "anchors"]
    assert (parsed["depth_multiple"], parsed["width_multiple"]) == (0.33, 0.5)
    assert official_yaml("s", none="python")["head"][5][3] == [None, 2, "nearest"]


def randomize(model: torch.nn.Module, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name.endswith("num_batches_tracked"):
                tensor.fill_(7)
            elif name.endswith("running_var"):
                tensor.copy_(torch.rand(tensor.shape, generator=gen) + 0.5)
            elif not name.endswith("anchors"):
                tensor.copy_(torch.randn(tensor.shape, generator=gen) * 0.1)


def register_standins(monkeypatch: pytest.MonkeyPatch, top: str = "DetectionModel") -> dict[type, type]:
    """Stand-ins for Ultralytics' classes: akit's, re-homed as models.common.* / models.yolo.* in sys.modules.

    ``top``: the model class, ``DetectionModel`` (v6.2 onwards) or ``Model`` (v6.0, v6.1).
    """
    package = types.ModuleType("models")
    package.__path__ = []
    common = types.ModuleType("models.common")
    yolo = types.ModuleType("models.yolo")
    package.common, package.yolo = common, yolo
    stand_ins = {}
    for module, bases in ((common, (Conv, Bottleneck, C3, SPPF, Concat)), (yolo, (Detect, YOLOv5))):
        for base in bases:
            name = top if base is YOLOv5 else base.__name__
            cls = type(name, (base,), {"__module__": module.__name__, "__qualname__": name})
            setattr(module, name, cls)
            stand_ins[base] = cls
    for name, module in (("models", package), ("models.common", common), ("models.yolo", yolo)):
        monkeypatch.setitem(sys.modules, name, module)
    return stand_ins


def standin_model(
    stand_ins: dict[type, type], variant: str = "n", seed: int = 1, none: str = "yaml"
) -> torch.nn.Module:
    """akit's network re-classed as the stand-ins, with the attributes parse_model and train.py attach."""
    model = build_yolov5(variant)
    randomize(model, seed)
    for module in model.modules():
        if type(module) in stand_ins:
            module.__class__ = stand_ins[type(module)]
    # what parse_model / train.py attach
    model.yaml = official_yaml(variant, none)
    model.names = dict(COCO_NAMES)
    model.nc = 80
    model.stride = torch.tensor([8.0, 16.0, 32.0])
    model.save = [4, 6, 10, 14, 17, 20, 23]
    model.hyp = {"lr0": 0.01, "box": 0.05, "anchor_t": 4.0}
    model.class_weights = torch.rand(80)
    detect = model.model[-1]
    detect.stride = model.stride
    detect.grid = [torch.empty(0) for _ in range(3)]
    detect.anchor_grid = [torch.empty(0) for _ in range(3)]
    detect.inplace = True
    for index, layer in enumerate(model.model):
        layer.i, layer.f, layer.type, layer.np = index, -1, type(layer).__name__, n_params(layer)
    return model


def save_like_ultralytics(path: Path, model: torch.nn.Module, ema: torch.nn.Module | None = None) -> None:
    ckpt = {
        "epoch": -1 if ema is None else 3,
        "best_fitness": None if ema is None else np.array([0.4]),
        "model": model.half(),
        "ema": None if ema is None else ema.half(),
        "updates": None if ema is None else 1200,
        "optimizer": None,
        "opt": {"weights": "yolov5s.pt", "epochs": 300, "hyp": {"lr0": 0.01}, "save_dir": "runs/train/exp"},
        "git": {"remote": "https://github.com/ultralytics/yolov5", "branch": "master", "commit": "915bbf2"},
        "date": "2022-11-22T12:00:00",
    }
    for p in model.parameters():
        p.requires_grad = False
    torch.save(ckpt, path)


def reference(model: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The stand-in model's own output, computed from its (half-rounded) weights in float32."""
    with torch.no_grad():
        return copy.deepcopy(model).float().eval()(x)[0]


@pytest.mark.parametrize("none", ["yaml", "python"])
def test_official_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, none: str) -> None:
    """Release files hold the yaml as safe_load read it (Upsample args ['None', 2, 'nearest']); None works too."""
    x = torch.rand(1, 3, 128, 128, generator=torch.Generator().manual_seed(3))
    path = tmp_path / "yolov5n.pt"
    with monkeypatch.context() as patch:
        model = standin_model(register_standins(patch), "n", none=none)
        model.half()
        expected = reference(model, x)
        expected_state = {k: v.float() for k, v in model.state_dict().items()}
        save_like_ultralytics(path, model)
    assert "models" not in sys.modules and "models.yolo" not in sys.modules
    with pytest.raises(pickle.UnpicklingError):  # the file really holds pickled classes
        torch.load(path, weights_only=True)

    pickled = safe_pickle.load_checkpoint(path, placeholders=ULTRALYTICS_CLASSES + safe_pickle.TORCH_NN_MODULES)
    upsample_args = safe_pickle.attribute(pickled["model"], "yaml")["head"][1][3]
    assert upsample_args == (["None", 2, "nearest"] if none == "yaml" else [None, 2, "nearest"])

    loaded = load_yolov5_weights(path)
    assert "models" not in sys.modules  # nothing was imported
    assert isinstance(loaded, YOLOv5) and not loaded.training
    assert loaded.variant == "n" and loaded.num_classes == 80 and loaded.names[:2] == ["person", "class1"]
    state = loaded.state_dict()
    assert state.keys() == expected_state.keys()
    for key, value in expected_state.items():
        assert torch.equal(state[key], value), key
    assert all(v.dtype == torch.float32 for v in state.values() if v.is_floating_point())
    with torch.no_grad():
        out = loaded(x)
    assert isinstance(out, tuple)
    torch.testing.assert_close(out[0], expected, rtol=0, atol=1e-5)
    # the variant argument must agree with the checkpoint's yaml
    assert load_yolov5_weights(path, variant="yolov5n").variant == "n"
    with pytest.raises(CheckpointError, match=r"is YOLOv5n \(depth 0.33, width 0.25\), not YOLOv5s") as err:
        load_yolov5_weights(path, variant="s")
    assert "\n" not in str(err.value)


def test_training_checkpoint_uses_ema(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(4))
    path = tmp_path / "last.pt"
    with monkeypatch.context() as patch:
        stand_ins = register_standins(patch, top="Model")  # a v6.0-era training checkpoint
        model = standin_model(stand_ins, "n", seed=1)
        ema = standin_model(stand_ins, "n", seed=2)
        ema.half()
        expected = reference(ema, x)
        save_like_ultralytics(path, model, ema=ema)
    loaded = load_yolov5_weights(path, variant="n")
    with torch.no_grad():
        torch.testing.assert_close(loaded(x)[0], expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize(
    ("section", "index", "layer", "reported"),
    [
        ("backbone", 0, [-1, 1, "Focus", [64, 3]], r"layer 0 is .*Focus"),  # pre-v6.0
        ("head", 1, [-1, 1, "nn.Upsample", ["None", 2, "bilinear"]], r"layer 11 is .*None, 2, 'bilinear'"),
    ],
)
def test_other_layouts_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, section: str, index: int, layer: list, reported: str
) -> None:
    path = tmp_path / "other.pt"
    with monkeypatch.context() as patch:
        model = standin_model(register_standins(patch), "s")
        model.yaml[section][index] = layer
        save_like_ultralytics(path, model)
    with pytest.raises(CheckpointError, match="not the YOLOv5 v6.0/v7.0 P5 layout.*" + reported):
        load_yolov5_weights(path)


# --------------------------------------------------------------------------------------------------------------
# 3. Malicious checkpoints: refused, nothing runs


class Payload:
    """Unpickling this calls ``func(*args)``: the classic pickle attack."""

    def __init__(self, func, *args) -> None:
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def payloads(marker: Path) -> dict[str, Payload]:
    return {
        "os.system": Payload(os.system, f"touch {marker}"),
        "builtins.exec": Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()"),
        "builtins.eval": Payload(builtins.eval, f"open({str(marker)!r}, 'w')"),
        "subprocess.call": Payload(subprocess.call, ["touch", str(marker)]),
    }


def assert_refused(path: Path, marker: Path) -> None:
    with pytest.raises(CheckpointError, match="refused to unpickle .*: a checkpoint may only hold tensors") as err:
        load_yolov5_weights(path)
    assert "\n" not in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("kind", ["os.system", "builtins.exec", "builtins.eval", "subprocess.call"])
def test_malicious_pickles_refused(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "pwned"
    payload = payloads(marker)[kind]
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(payload, protocol=2))
    assert_refused(raw, marker)
    zipped = tmp_path / "zipped.pt"
    torch.save({"model": payload, "epoch": -1}, zipped)
    assert_refused(zipped, marker)


def test_malicious_object_inside_a_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "nested.pt"
    with monkeypatch.context() as patch:
        model = standin_model(register_standins(patch), "n")
        model.model[2].m[0].cv2.conv.evil = Payload(os.system, f"touch {marker}")
        save_like_ultralytics(path, model)
    with pytest.raises(CheckpointError, match=r"refused to unpickle posix\.system|refused to unpickle nt\.system"):
        load_yolov5_weights(path)
    assert not marker.exists()


def test_state_dict_with_extra_malicious_object(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    state = build_yolov5("n").state_dict()
    state["extra"] = Payload(builtins.exec, f"open({str(marker)!r}, 'w').close()")
    path = tmp_path / "sd.pt"
    torch.save(state, path)
    assert_refused(path, marker)
    torch.save({"model": build_yolov5("n").state_dict(), "opt": Payload(os.system, f"touch {marker}")}, path)
    assert_refused(path, marker)


def test_restricted_unpickler_allow_list() -> None:
    module = safe_pickle.restricted_pickle_module(["models.common.Conv"])
    assert module.loads(pickle.dumps(OrderedDict(a=1), protocol=2)) == OrderedDict(a=1)
    assert module.loads(pickle.dumps({1, 2}, protocol=2)) == {1, 2}
    for forbidden in (os.system, builtins.getattr, copy.deepcopy, types.SimpleNamespace):
        with pytest.raises(safe_pickle.RefusedGlobal):
            module.loads(pickle.dumps(Payload(forbidden, "x"), protocol=2))
    stand_in = module.Unpickler(io.BytesIO(b"")).find_class("models.common", "Conv")
    assert issubclass(stand_in, safe_pickle.Placeholder) and vars(stand_in(1, 2)) == {
        "_akit_args": (1, 2),
        "_akit_state": None,
    }


# --------------------------------------------------------------------------------------------------------------
# 4. Plain state_dicts


def test_state_dict_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(5)
    model = build_yolov5("n").eval()
    randomize(model, 5)
    x = torch.rand(1, 3, 96, 96)
    with torch.no_grad():
        expected = model(x)[0]
    # plain state_dicts go through torch.load(weights_only=True) alone: the restricted reader is never built
    monkeypatch.setattr(safe_pickle, "restricted_pickle_module", lambda *a, **k: pytest.fail("not weights-only"))
    for i, wrap in enumerate((lambda s: s, lambda s: {"state_dict": s}, lambda s: {"model": s, "epoch": 9})):
        path = tmp_path / f"sd{i}.pth"
        torch.save(wrap(model.state_dict()), path)
        loaded = load_yolov5_weights(path)  # variant inferred from the stem width
        assert loaded.variant == "n" and loaded.names is None
        with torch.no_grad():
            assert torch.equal(loaded(x)[0], expected)
    half = tmp_path / "half.pth"
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}, half)
    assert load_yolov5_weights(half, variant="n").model[0].conv.weight.dtype == torch.float32


def test_wrong_variant_state_dict(tmp_path: Path) -> None:
    path = tmp_path / "n.pth"
    torch.save(build_yolov5("n").state_dict(), path)
    with pytest.raises(CheckpointError) as err:
        load_yolov5_weights(path, variant="s")
    message = str(err.value)
    assert "\n" not in message and "YOLOv5s (depth 0.33, width 0.5)" in message
    assert "model.0.conv.weight (16, 3, 6, 6) in the file vs (32, 3, 6, 6)" in message
    other = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(3, 3, 1, 1)}, other)
    for variant in (None, "n"):  # no model.* tensors at all: not a YOLOv5 file, whatever the variant asked for
        with pytest.raises(CheckpointError, match="is not a YOLOv5 checkpoint: its weights look like unknown network"):
            load_yolov5_weights(other, variant=variant)
    partial = tmp_path / "partial.pth"
    torch.save({"model.0.conv.weight": torch.zeros(16, 3, 6, 6)}, partial)
    with pytest.raises(CheckpointError, match="missing key"):
        load_yolov5_weights(partial, variant="n")


# --------------------------------------------------------------------------------------------------------------
# 5. Detect decoding on a hand-derived case


def test_decode_hand_case() -> None:
    model = build_yolov5("n", num_classes=1).eval()
    detect = model.model[-1]
    # per anchor: tx, ty, tw, th, obj, cls logits -> sigmoids 0.75, 0.25, 0.5, 0.75, 0.2, 0.8
    logits = [math.log(3), math.log(1 / 3), 0.0, math.log(3), math.log(1 / 4), math.log(4)]
    with torch.no_grad():
        for conv in detect.m:
            conv.weight.zero_()
            conv.bias.copy_(torch.tensor(logits * 3))
        pred, raw = model(torch.rand(1, 3, 64, 64))
    assert pred.shape == (1, 3 * (8 * 8 + 4 * 4 + 2 * 2), 6) and len(raw) == 3
    # x = (2*0.75 - 0.5 + col) * stride = (col + 1) * stride; y = (2*0.25 - 0.5 + row) * stride = row * stride
    # w = (2*0.5)^2 * anchor_w = anchor_w; h = (2*0.75)^2 * anchor_h = 2.25 * anchor_h
    hand = {
        0: [8, 0, 10, 29.25, 0.2, 0.8],  # stride 8, anchor (10,13), row 0, col 0
        1 * 64 + 2 * 8 + 5: [48, 16, 16, 67.5, 0.2, 0.8],  # stride 8, anchor (16,30), row 2, col 5
        192 + 2 * 16 + 3 * 4 + 1: [32, 48, 59, 267.75, 0.2, 0.8],  # stride 16, anchor (59,119), row 3, col 1
        240 + 0 * 4 + 1 * 2 + 1: [64, 32, 116, 202.5, 0.2, 0.8],  # stride 32, anchor (116,90), row 1, col 1
        251: [64, 32, 373, 733.5, 0.2, 0.8],  # last row: stride 32, anchor (373,326), row 1, col 1
    }
    for row, values in hand.items():
        torch.testing.assert_close(pred[0, row], torch.tensor(values, dtype=torch.float32), rtol=1e-6, atol=1e-5)
    anchors = [[(10, 13), (16, 30), (33, 23)], [(30, 61), (62, 45), (59, 119)], [(116, 90), (156, 198), (373, 326)]]
    expected = [
        [(col + 1) * s, row * s, aw, 2.25 * ah, 0.2, 0.8]
        for level, s in enumerate((8, 16, 32))
        for aw, ah in anchors[level]
        for row in range(64 // s)
        for col in range(64 // s)
    ]
    torch.testing.assert_close(pred[0], torch.tensor(expected, dtype=torch.float32), rtol=1e-6, atol=1e-5)


def test_the_network_module_reads_no_checkpoints() -> None:
    """The network (nets/yolov5.py) and the unpacking of Ultralytics files (nets/yolov5_checkpoint.py) are apart."""
    from pathlib import Path

    import alphapose_kit.detectors.nets.yolov5 as network

    source = Path(network.__file__).read_text()
    assert "safe_pickle" not in source and "def load_yolov5_weights" not in source
