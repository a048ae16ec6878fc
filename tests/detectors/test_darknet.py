"""Darknet cfg parser, YOLO network, .weights reader/writer, and akit's own YOLOv3-SPP definition."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from alphapose_kit.detectors.nets.darknet import (
    DarknetYOLO,
    MaxPoolLayer,
    expected_weights_bytes,
    load_darknet_weights,
    save_darknet_weights,
)
from alphapose_kit.detectors.nets.darknet_cfg import parse_darknet_cfg
from alphapose_kit.detectors.nets.yolov3_spp import build_yolov3_spp, yolov3_spp_blocks
from alphapose_kit.errors import AkitError, CheckpointError, ConfigError
from tests.paths import REFERENCE

REF = REFERENCE / "darknet"
needs_ref = pytest.mark.skipif(not REF.is_dir(), reason=f"original darknet cfgs not found at {REF}")

ANCHORS = [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326]

# Known absolute figures. YOLOv3: 61,949,149 parameters and the official yolov3.weights is 248,007,048 bytes
# (publicly known). YOLOv3-SPP adds one 1x1 conv 2048->512 with BN: +1,049,600 parameters, +1,050,624 float32 values
# (+4,202,496 bytes), i.e. 62,998,749 parameters and a 252,209,544-byte yolov3-spp.weights. Test 3 derives these
# from the cfgs with independent arithmetic.
KNOWN = {"yolov3": (61_949_149, 248_007_048), "yolov3-spp": (62_998_749, 252_209_544)}


def _meta_model(blocks) -> DarknetYOLO:
    with torch.device("meta"):  # no memory, no init: enough for counting
        return DarknetYOLO(blocks)


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = str(err.value)
    assert message and "\n" not in message
    return message


# ------------------------------------------------------------------------------------------------ 1. the parser
@needs_ref
@pytest.mark.parametrize("name", ["yolov3", "yolov3-spp"])
def test_parse_original_cfgs(name):
    text = (REF / f"{name}.cfg").read_text()
    blocks = parse_darknet_cfg(REF / f"{name}.cfg")
    assert parse_darknet_cfg(text) == blocks  # text and path give the same

    # section counts against a plain text count of the headers
    plain = Counter(line.strip()[1:-1] for line in text.splitlines() if line.strip().startswith("["))
    assert Counter(b["type"] for b in blocks) == plain
    spp = name == "yolov3-spp"
    assert plain["convolutional"] == (76 if spp else 75)
    assert plain == Counter(
        net=1,
        convolutional=76 if spp else 75,
        shortcut=23,
        route=7 if spp else 4,
        maxpool=3 if spp else 0,
        upsample=2,
        yolo=3,
    )

    net = blocks[0]
    assert net["type"] == "net" and net["channels"] == 3 and net["steps"] == [400000, 450000]
    assert net["width"] == net["height"] == (608 if spp else 320)  # AlphaPose's yolov3.cfg says 320
    assert blocks[1] == {
        "type": "convolutional",
        "batch_normalize": 1,
        "filters": 32,
        "size": 3,
        "stride": 1,
        "pad": 1,
        "activation": "leaky",
    }

    yolos = [b for b in blocks if b["type"] == "yolo"]
    assert [y["mask"] for y in yolos] == [[6, 7, 8], [3, 4, 5], [0, 1, 2]]
    for y in yolos:
        assert y["anchors"] == ANCHORS
        assert (y["classes"], y["num"], y["jitter"], y["truth_thresh"], y["random"]) == (80, 9, 0.3, 1, 1)
        assert y["ignore_thresh"] == (0.7 if spp else 0.5)

    routes = [b["layers"] for b in blocks if b["type"] == "route"]
    assert [-1, 61] in routes and [-1, 36] in routes  # absolute indices of backbone stages
    if spp:
        assert routes[:4] == [[-2], [-4], [-1, -3, -5, -6], [-4]]
        pools = [b for b in blocks if b["type"] == "maxpool"]
        assert [(p["size"], p["stride"]) for p in pools] == [(5, 1), (9, 1), (13, 1)]

    model = _meta_model(blocks)
    assert (model.num_classes, model.strides, model.input_multiple) == (80, (32, 16, 8), 32)
    assert len(model.layers) == len(blocks) - 1
    assert sum(1 for _ in model.conv_layers()) == plain["convolutional"]


def test_parser_syntax():
    text = """
    ; a comment
    [net]
    width = 64   # trailing comment
    [convolutional]
    batch_normalize=1
    filters=8
    size=3
    stride=2
    pad=1
    activation=leaky
    [route]
    layers = -1
    [yolo]
    mask = 0
    anchors = 1.5,2, 3,4,
    jitter=.3
    """
    blocks = parse_darknet_cfg(text)
    assert blocks[0] == {"type": "net", "width": 64}
    assert blocks[2] == {"type": "route", "layers": [-1]}  # always a list
    assert blocks[3] == {"type": "yolo", "mask": [0], "anchors": [1.5, 2, 3, 4], "jitter": 0.3}


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[net]\nwidth=1\n\n[convolutional]\nfilters=1\n[dropout]\nprobability=.5\n", "[dropout]"),
        ("filters=3\n[net]\n", "before the first [section]"),
        ("[net]\nwidth\n", "expected 'key=value'"),
        ("[net]\nwidth=1\nwidth=2\n", "set twice"),
        ("[yolo]\nmask=a,b\n", "'mask'"),
        ("# only a comment\n", "no [sections]"),
    ],
)
def test_parser_errors_are_one_line(text, fragment):
    with pytest.raises(ConfigError) as err:
        parse_darknet_cfg(text)
    message = _one_line(err)
    assert fragment in message
    if fragment == "[dropout]":
        assert "line 6" in message


def test_parser_missing_file(tmp_path):
    with pytest.raises(ConfigError) as err:
        parse_darknet_cfg(tmp_path / "nope.cfg")
    assert "not found" in _one_line(err)


def test_model_config_errors():
    head = "[convolutional]\nsize=1\nfilters=7\nactivation=linear\n"
    yolo = "[yolo]\nmask=0\nanchors=1,1\nclasses=2\nnum=1\n"
    with pytest.raises(ConfigError, match="needs 7"):
        DarknetYOLO(parse_darknet_cfg(head.replace("7", "8") + yolo))
    with pytest.raises(ConfigError, match="earlier layer"):
        DarknetYOLO(parse_darknet_cfg("[route]\nlayers=3\n" + head + yolo))
    with pytest.raises(ConfigError, match="mish"):
        DarknetYOLO(parse_darknet_cfg(head.replace("linear", "mish") + yolo))
    with pytest.raises(ConfigError, match=r"no \[yolo\]"):
        DarknetYOLO(parse_darknet_cfg(head))


# --------------------------------------------------------------------------------- 2. akit's own YOLOv3-SPP list
@needs_ref
def test_own_definition_equals_original_cfg():
    original = parse_darknet_cfg(REF / "yolov3-spp.cfg")
    own = yolov3_spp_blocks()
    assert own[1:] == original[1:]  # every layer, every option
    # [net]: akit keeps the model-relevant options only (input size, channels)
    assert own[0] == {k: original[0][k] for k in ("type", "width", "height", "channels")}


def test_own_definition_num_classes():
    blocks = yolov3_spp_blocks(num_classes=1)
    assert [b["classes"] for b in blocks if b["type"] == "yolo"] == [1, 1, 1]
    predict = [blocks[i - 1] for i, b in enumerate(blocks) if b["type"] == "yolo"]
    assert [p["filters"] for p in predict] == [18, 18, 18]
    with torch.device("meta"):
        model = build_yolov3_spp(num_classes=1)
    assert (model.num_classes, model.strides) == (1, (32, 16, 8))


# ----------------------------------------------------------------------------- 3. parameter and weights-file size
def _count_by_hand(blocks) -> tuple[int, int]:
    """(parameters, float32 values in the .weights file), walking the cfg and tracking channels by hand."""
    out_channels: list[int] = []
    c, params, values = 3, 0, 0
    for b in blocks[1:]:
        if b["type"] == "convolutional":
            k, f = b["size"], b["filters"]
            weights = k * k * c * f
            if b.get("batch_normalize"):
                params += weights + 2 * f  # gamma, beta
                values += weights + 4 * f  # beta, gamma, running mean, running var
            else:
                params += weights + f  # bias
                values += weights + f
            c = f
        elif b["type"] == "route":
            c = sum(out_channels[i if i >= 0 else len(out_channels) + i] for i in b["layers"])
        out_channels.append(c)
    return params, values


@needs_ref
@pytest.mark.parametrize("name", ["yolov3", "yolov3-spp"])
def test_parameter_and_weights_byte_counts(name):
    blocks = parse_darknet_cfg(REF / f"{name}.cfg")
    params, values = _count_by_hand(blocks)
    assert (params, 20 + 4 * values) == KNOWN[name]
    model = _meta_model(blocks)
    assert sum(p.numel() for p in model.parameters()) == params
    assert expected_weights_bytes(model) == 20 + 4 * values


def test_own_definition_byte_counts():
    with torch.device("meta"):
        model = build_yolov3_spp()
    assert (sum(p.numel() for p in model.parameters()), expected_weights_bytes(model)) == KNOWN["yolov3-spp"]
    assert sum(1 for _ in model.conv_layers()) == 76


# ------------------------------------------------------------------------------------------ 4. weights round trip
def _randomise(model: DarknetYOLO, seed: int = 0) -> None:
    """Distinct random values in every tensor the file stores (conv weights keep their random default init)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.conv_layers():
            if layer.bn is None:
                layer.conv.bias.copy_(torch.randn(layer.conv.bias.shape, generator=g) * 0.1)
            else:
                n = layer.bn.num_features
                layer.bn.weight.copy_(0.5 + torch.rand(n, generator=g))
                layer.bn.bias.copy_(torch.randn(n, generator=g) * 0.1)
                layer.bn.running_mean.copy_(torch.randn(n, generator=g) * 0.1)
                layer.bn.running_var.copy_(0.5 + torch.rand(n, generator=g))


def _weights_state(model):
    return {k: v for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}


def test_round_trip_yolov3_spp(tmp_path):
    torch.manual_seed(0)
    model = build_yolov3_spp().eval()
    _randomise(model)
    model.header = (0, 2, 0, 32_013_312)
    path = save_darknet_weights(model, tmp_path / "spp.weights")
    assert path.stat().st_size == expected_weights_bytes(model) == 252_209_544
    head = path.read_bytes()[:20]
    assert tuple(np.frombuffer(head[:12], "<i4")) == (0, 2, 0)
    assert int(np.frombuffer(head[12:], "<i8")[0]) == 32_013_312

    with torch.device("meta"):
        fresh = build_yolov3_spp()
    fresh = fresh.to_empty(device="cpu").eval()  # garbage values until loaded
    load_darknet_weights(fresh, path)
    assert fresh.header == (0, 2, 0, 32_013_312)
    a, b = _weights_state(model), _weights_state(fresh)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    x = torch.rand(1, 3, 160, 160, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        y1, y2 = model(x), fresh(x)
    assert y1.shape == (1, 3 * (5 * 5 + 10 * 10 + 20 * 20), 85)
    assert torch.isfinite(y1).all()
    assert torch.equal(y1, y2)


TINY = """
[net]
[convolutional]
batch_normalize=1
filters=2
size=3
stride=1
pad=1
activation=leaky
[convolutional]
size=1
stride=1
pad=1
filters=6
activation=linear
[yolo]
mask=0
anchors=4,6
classes=1
num=1
"""


def _tiny_file(tmp_path) -> tuple[Path, np.ndarray]:
    """A .weights file written by hand in darknet's layout: values 0, 1, 2, ... (80 of them)."""
    values = np.arange(2 + 2 + 2 + 2 + 2 * 3 * 3 * 3 + 6 + 6 * 2, dtype="<f4")
    path = tmp_path / "tiny.weights"
    path.write_bytes(np.array([0, 2, 5], "<i4").tobytes() + np.array([7], "<i8").tobytes() + values.tobytes())
    return path, values


def test_weights_file_layout(tmp_path):
    """The reader puts each value where darknet's layout says, and the writer reproduces the file byte for byte."""
    path, v = _tiny_file(tmp_path)
    model = load_darknet_weights(DarknetYOLO(parse_darknet_cfg(TINY)), path)
    first, second = model.conv_layers()
    expect = {
        "bn beta": (first.bn.bias, v[0:2]),
        "bn gamma": (first.bn.weight, v[2:4]),
        "running mean": (first.bn.running_mean, v[4:6]),
        "running var": (first.bn.running_var, v[6:8]),
        "conv weight": (first.conv.weight, v[8:62].reshape(2, 3, 3, 3)),
        "bias (no BN)": (second.conv.bias, v[62:68]),
        "conv weight (no BN)": (second.conv.weight, v[68:80].reshape(6, 2, 1, 1)),
    }
    for what, (tensor, want) in expect.items():
        assert np.array_equal(tensor.detach().numpy(), want), what
    assert model.header == (0, 2, 5, 7)
    out = save_darknet_weights(model, tmp_path / "again.weights")
    assert out.read_bytes() == path.read_bytes()


# --------------------------------------------------------------------------------------------- 5. decode numbers
DECODE = """
[net]
# layer 0: head at stride 4, anchors 1 and 2, 2 classes -> 2 * 7 channels
[convolutional]
size=1
stride=4
pad=1
filters=14
activation=linear
# layer 1
[yolo]
mask=1,2
anchors=10,13, 16,30, 33,23
classes=2
num=3
# layers 2-5: back to layer 0, pool to stride 8, head with anchor 0
[route]
layers=-2
[maxpool]
size=2
stride=2
[convolutional]
size=1
stride=1
pad=1
filters=7
activation=linear
[yolo]
mask=0
anchors=10,13, 16,30, 33,23
classes=2
num=3
"""


def _sig(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def test_decode_hand_derived():
    model = DarknetYOLO(parse_darknet_cfg(DECODE)).eval()
    assert (model.strides, model.input_multiple, model.num_classes) == ((4, 8), 8, 2)
    g = torch.Generator().manual_seed(0)
    raw = {0: torch.randn(1, 14, 4, 6, generator=g), 4: torch.randn(1, 7, 2, 3, generator=g)}
    # A hand case in head 0: anchor slot 1 (anchor (33, 23)), row 2, col 5: tx = ln 3 -> sigmoid 0.75,
    # ty = 0 -> 0.5, tw = ln 2, th = 0 -> cx = (0.75 + 5) * 4 = 23, cy = (0.5 + 2) * 4 = 10, w = 66, h = 23.
    raw[0][0, 7:11, 2, 5] = torch.tensor([math.log(3), 0.0, math.log(2), 0.0])
    for i, t in raw.items():  # replace the two prediction convs' outputs with known values
        model.layers[i].register_forward_hook(lambda mod, inp, out, t=t: t.clone())
    with torch.no_grad():
        y = model(torch.zeros(1, 3, 16, 24))  # non-square: 4 x 6 grid at stride 4, 2 x 3 at stride 8
    assert y.shape == (1, 4 * 6 * 2 + 2 * 3 * 1, 7)

    row = (2 * 6 + 5) * 2 + 1  # cell row-major, then anchor
    assert y[0, row, :4].tolist() == pytest.approx([23.0, 10.0, 66.0, 23.0], abs=1e-4)

    heads = [(raw[0][0], 4, [(16, 30), (33, 23)]), (raw[4][0], 8, [(10, 13)])]
    expected = []
    for t, stride, anchors in heads:  # yolo layers in cfg order
        for r in range(t.shape[1]):
            for c in range(t.shape[2]):
                for a, (aw, ah) in enumerate(anchors):
                    tx, ty, tw, th, *rest = t[a * 7 : (a + 1) * 7, r, c].tolist()
                    expected.append(
                        [(_sig(tx) + c) * stride, (_sig(ty) + r) * stride, math.exp(tw) * aw, math.exp(th) * ah]
                        + [_sig(v) for v in rest]
                    )
    assert torch.allclose(y[0], torch.tensor(expected), rtol=1e-5, atol=1e-4)


def test_forward_rejects_bad_input_size():
    model = DarknetYOLO(parse_darknet_cfg(DECODE))
    with pytest.raises(AkitError, match="multiples of 8"):
        model(torch.zeros(1, 3, 20, 24))


# ---------------------------------------------------------------------------------------- 6. SPP zero-padding quirk
def test_spp_maxpool_pads_with_zeros():
    pool = MaxPoolLayer(size=5, stride=1)
    x = -1.0 - torch.rand(1, 3, 9, 9, generator=torch.Generator().manual_seed(0))  # all negative
    y = pool(x)
    assert y.shape == x.shape
    border = torch.ones(9, 9, dtype=torch.bool)
    border[2:7, 2:7] = False
    assert (y[..., border] == 0).all()  # zeros win at the borders, not the negative max (darknet's -inf padding)
    assert torch.equal(y[..., 2:7, 2:7], F.max_pool2d(x, 5, 1))  # interior: the plain 5x5 max
    assert (F.max_pool2d(x, 5, 1, padding=2) < 0).all()  # what -inf padding would give instead

    spp = [m for m in build_yolov3_spp().layers if isinstance(m, MaxPoolLayer)]
    assert [(m.size, m.stride) for m in spp] == [(5, 1), (9, 1), (13, 1)]


# ------------------------------------------------------------------------------------------- 7. bad weights files
def test_bad_weights_files(tmp_path):
    path, _ = _tiny_file(tmp_path)
    model = DarknetYOLO(parse_darknet_cfg(TINY))
    assert expected_weights_bytes(model) == 20 + 4 * 80 == path.stat().st_size
    data = path.read_bytes()

    cases = {
        "truncated": data[:-4],
        "oversized": data + b"\0" * 8,
        "random": np.random.default_rng(0).integers(0, 256, len(data), dtype=np.uint8).tobytes(),
        "nan": data[:20] + np.full(80, np.nan, "<f4").tobytes(),
        "pth": b"PK\x03\x04" + bytes(len(data) - 4),
        "empty": b"",
    }
    for name, content in cases.items():
        bad = tmp_path / f"{name}.weights"
        bad.write_bytes(content)
        with pytest.raises(CheckpointError) as err:
            load_darknet_weights(model, bad)
        message = _one_line(err)
        assert "340-byte file" in message and f"found {len(content):,} bytes" in message, name
    with pytest.raises(CheckpointError, match="does not exist"):
        load_darknet_weights(model, tmp_path / "missing.weights")

    with torch.device("meta"):
        spp = build_yolov3_spp()
    with pytest.raises(CheckpointError) as err:
        load_darknet_weights(spp, path)  # a weights file for another network
    message = _one_line(err)
    assert "76 conv layers" in message and "252,209,544-byte" in message and "found 340 bytes" in message
