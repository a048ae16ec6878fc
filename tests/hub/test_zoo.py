"""The model zoo registry, weight resolution (against a local server) and the CLI texts."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from alphapose_kit.config import load_config, shipped_configs_dir
from alphapose_kit.data.keypoints import get_keypoint_set, keypoint_set_for, keypoint_set_names
from alphapose_kit.errors import AkitError, DownloadError
from alphapose_kit.hub import zoo
from alphapose_kit.models import build_pose_model
from tests.paths import REFERENCE

FACTS = REFERENCE / "alphapose-facts.md"
DRIVE_URL = re.compile(r"^https://drive\.google\.com/uc\?export=download&id=[A-Za-z0-9_-]{25,}$")
PAYLOAD = b"not really a checkpoint " * 1000


class _Handler(BaseHTTPRequestHandler):
    hits: list[str]

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.hits.append(self.path)
        if self.path != "/w.pth":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)


@pytest.fixture
def server():
    hits: list[str] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), type("H", (_Handler,), {"hits": hits}))
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("AKIT_HOME", str(tmp_path / "akit"))
    return tmp_path / "akit"


def _patch(monkeypatch, name: str, **changes) -> zoo.ZooEntry:
    entry = dataclasses.replace(zoo.get_entry(name), **changes)
    monkeypatch.setitem(zoo._REGISTRY, name, entry)
    return entry


# --- registry ---------------------------------------------------------------------------------------------------


def test_names_unique_and_kinds():
    names = [entry.name for entry in zoo._ENTRIES]
    assert len(names) == len(set(names))
    assert len({entry.filename for entry in zoo._ENTRIES}) == len(names)
    assert {entry.kind for entry in zoo.list_models()} == {"pose", "detector", "lifter"}
    yolox = [f"yolox-{s}" for s in ("nano", "tiny", "s", "m", "l", "x")]
    ultralytics = [f"{family}{s}" for family in ("yolov8", "yolo11") for s in "nsmlx"]
    assert [e.name for e in zoo.list_models("detector")] == [
        "yolov3-spp", *(f"yolov5{s}" for s in "nsmlx"), *yolox, *ultralytics
    ]  # fmt: skip
    by_set = {}
    for entry in zoo.list_models("pose"):
        by_set.setdefault(entry.keypoints, []).append(entry.name)
    assert {k: len(v) for k, v in by_set.items()} == {
        "coco17": 9,  # 7 COCO models + HarDNet-68/85 (no official weights)
        "halpe26": 1,
        "halpe136": 8,  # MODEL_ZOO.md: 6 Halpe-136 rows + 2 multi-domain rows
        "coco_wholebody133": 5,
        "halpe68": 1,
        "hand21": 1,
    }
    with pytest.raises(AkitError, match="unknown model kind"):
        zoo.list_models("segmenter")


def test_urls_well_formed_and_no_invented_hashes():
    for entry in zoo.list_models():
        assert entry.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", entry.sha256), entry.name
        for url in entry.urls:
            assert url.startswith("https://"), url
            if "drive.google.com" in url:
                assert DRIVE_URL.match(url), url
        if entry.kind == "pose":
            assert entry.keypoints in keypoint_set_names() and entry.filename.endswith(".pth")
    assert zoo.get_entry("hrnet_w48_256x192").urls == ()
    assert "no official" in zoo.get_entry("hrnet_w48_256x192").description
    assert zoo.get_entry("yolov3-spp").urls[1] == "https://pjreddie.com/media/files/yolov3-spp.weights"
    assert zoo.get_entry("yolov5s").urls == ("https://github.com/ultralytics/yolov5/releases/download/v7.0/yolov5s.pt",)
    assert zoo.get_entry("fastpose_duc_res152_256x192").ap == 73.3


def test_drive_ids_match_the_facts_sheet():
    facts = FACTS.read_text()
    for entry in zoo.list_models():
        for url in entry.urls:
            if "drive.google.com" in url:
                drive_id = url.rsplit("=", 1)[1]
                assert drive_id in facts, f"{entry.name}: Drive id {drive_id} is not in the facts sheet"


def test_every_pose_entry_builds_its_network_with_its_keypoint_set():
    """Each zoo config builds (on the meta device: no weights) a network whose output has one map per joint of the
    entry's keypoint set; the joint count comes from the config, the set from the entry."""
    for entry in zoo.list_models("pose"):
        cfg = load_config(zoo.config_path(entry))
        preset = cfg.DATA_PRESET
        resolved = keypoint_set_for(preset.NUM_JOINTS, preset.KEYPOINT_SET, cfg.DATASET.TRAIN.TYPE)
        assert resolved.name == entry.keypoints, entry.name
        assert entry.num_keypoints == get_keypoint_set(entry.keypoints).num_joints, entry.name
        with torch.device("meta"):
            out = build_pose_model(cfg)(torch.zeros(1, 3, *cfg.DATA_PRESET.IMAGE_SIZE))
        assert out.shape[1] >= entry.num_keypoints, entry.name  # FastPose_DUC_Dense adds channels beyond the set


def test_every_config_exists():
    assert len(list(shipped_configs_dir().rglob("*.yaml"))) >= 14
    with_config = [e for e in zoo.list_models() if e.kind != "lifter"]  # a lifter's shape comes from its weights
    missing = [f"{e.name}: {zoo.config_path(e)}" for e in with_config if not zoo.config_path(e).is_file()]
    assert not missing, "configs missing: " + "; ".join(missing)


def test_get_entry_aliases_and_typo_suggestion():
    assert zoo.get_entry("YOLOv3_SPP").name == "yolov3-spp"
    assert zoo.get_entry("fast_res50_256x192.pth").name == "fastpose_res50_256x192"
    assert zoo.get_entry("fast_421_res152_256x192").name == "fastpose_duc_res152_256x192"
    with pytest.raises(AkitError) as err:
        zoo.get_entry("fastpose_res50_256x19")
    message = str(err.value)
    assert "\n" not in message and "did you mean" in message and "'fastpose_res50_256x192'" in message
    with pytest.raises(AkitError, match="known models: fastpose_res50_256x192"):
        zoo.get_entry("qqqqqq")


def test_paths(home):
    entry = zoo.get_entry("fastpose_res50_256x192")
    assert zoo.akit_home() == home
    assert zoo.weights_path(entry) == home / "weights" / "fast_res50_256x192.pth"
    assert zoo.config_path(entry) == shipped_configs_dir() / "coco" / "fastpose_res50_256x192.yaml"
    assert zoo.config_path(zoo.get_entry("yolov5n")) == shipped_configs_dir() / "detector" / "yolov5n.yaml"


def test_default_home(monkeypatch):
    monkeypatch.delenv("AKIT_HOME", raising=False)
    assert zoo.akit_home() == Path.home() / ".cache" / "alphapose_kit"


# --- resolve_weights ----------------------------------------------------------------------------------------------


def test_resolve_weights_downloads_once(server, home, monkeypatch):
    base, hits = server
    _patch(monkeypatch, "fastpose_res50_256x192", urls=(f"{base}/missing", f"{base}/w.pth"))
    path = zoo.resolve_weights("fastpose_res50_256x192")
    assert path == home / "weights" / "fast_res50_256x192.pth"
    assert path.read_bytes() == PAYLOAD
    assert zoo.resolve_weights("fastpose_res50_256x192") == path
    assert hits == ["/missing", "/w.pth"]  # the second call used the cache


def test_resolve_weights_checks_a_pinned_hash(server, home, monkeypatch):
    base, _ = server
    _patch(monkeypatch, "simplepose_res50_256x192", urls=(f"{base}/w.pth",), sha256="1" * 64)
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        zoo.resolve_weights("simplepose_res50_256x192")
    assert not (home / "weights" / "simple_res50_256x192.pth").exists()
    _patch(monkeypatch, "simplepose_res50_256x192", urls=(f"{base}/w.pth",),
           sha256=hashlib.sha256(PAYLOAD).hexdigest())  # fmt: skip
    assert zoo.resolve_weights("simplepose_res50_256x192").read_bytes() == PAYLOAD


def test_resolve_weights_paths_and_errors(home, tmp_path):
    own = tmp_path / "my.pth"
    own.write_bytes(b"x")
    assert zoo.resolve_weights(own) == own
    assert zoo.resolve_weights(str(own)) == own
    with pytest.raises(AkitError, match="weights file not found"):
        zoo.resolve_weights(tmp_path / "nope.pth")
    with pytest.raises(AkitError, match="neither a weights file nor a zoo model name; did you mean"):
        zoo.resolve_weights("hrnet_w23_256x192")
    with pytest.raises(AkitError, match="no official weights") as err:
        zoo.resolve_weights("hrnet_w48_256x192")
    assert str(home / "weights" / "hrnet_w48_256x192.pth") in str(err.value)
    with pytest.raises(AkitError, match="not downloaded; download them from https://drive.google.com"):
        zoo.resolve_weights("hrnet_w32_256x192", download=False)


def test_resolve_weights_offline_is_one_line(home, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _patch(monkeypatch, "hrnet_w32_256x192", urls=(f"http://127.0.0.1:{port}/hrnet_w32_256x192.pth",))
    with pytest.raises(DownloadError) as err:
        zoo.resolve_weights("hrnet_w32_256x192")
    assert "\n" not in str(err.value) and str(home / "weights" / "hrnet_w32_256x192.pth") in str(err.value)


def test_pose_and_detector_loaders_resolve_bare_names_by_one_rule(home, tmp_path, monkeypatch):
    from alphapose_kit.detectors import detector_weights, load_detector
    from alphapose_kit.models.loader import load_pose_model

    monkeypatch.chdir(tmp_path)  # no weight files in the working folder
    cached = home / "weights"
    cached.mkdir(parents=True)
    for name in ("yolov5n.pt", "fast_res50_256x192.pth"):
        (cached / name).write_bytes(b"cached")
    # a bare zoo file name or zoo name means the zoo's cached copy, for either kind
    assert zoo.resolve_weights("yolov5n.pt", kind="detector") == cached / "yolov5n.pt"
    assert zoo.resolve_weights("fast_res50_256x192.pth", kind="pose") == cached / "fast_res50_256x192.pth"
    assert detector_weights("yolo") == "yolov3-spp" and detector_weights("yolov5n", "x.pt") == "x.pt"
    assert detector_weights("detfile", "d.json") is None
    # a local file of that name wins over the cache
    (tmp_path / "yolov5n.pt").write_bytes(b"local")
    assert zoo.resolve_weights("yolov5n.pt", kind="detector") == Path("yolov5n.pt")
    # both loaders go through the same rule: the same inputs fail with the same messages
    cfg = "coco/fastpose_res50_256x192"
    for bad, message in [
        ("folder/fast_res50_256x192.pth", "weights file not found: folder/fast_res50_256x192.pth"),
        ("yolov5s.pt", "'yolov5s.pt' names the detector model yolov5s, not a pose"),
    ]:
        with pytest.raises(AkitError, match=re.escape(message)):
            load_pose_model(cfg, bad)
    for bad, message in [
        ("folder/yolov5n.pt", "weights file not found: folder/yolov5n.pt"),
        (
            "fast_res50_256x192.pth",
            "'fast_res50_256x192.pth' names the pose model fastpose_res50_256x192, not a detector",
        ),
    ]:
        with pytest.raises(AkitError, match=re.escape(message)):
            load_detector("yolov5n", weights=bad)


def test_ensure_weights_names_every_missing_file_at_once(home, monkeypatch):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there (offline)
    for name in ("fastpose_res50_256x192", "yolov3-spp"):
        entry = zoo.get_entry(name)
        _patch(monkeypatch, name, urls=(f"http://127.0.0.1:{port}/{entry.filename}",))
    with pytest.raises(DownloadError) as err:
        zoo.ensure_weights(["fastpose_res50_256x192", "yolov3-spp", "fastpose_res50_256x192"])
    message = str(err.value)
    assert message.startswith("2 weight files could not be downloaded") and "\n" not in message
    for filename in ("fast_res50_256x192.pth", "yolov3-spp.weights"):
        assert str(home / "weights" / filename) in message and f"127.0.0.1:{port}/{filename}" in message
    assert not list((home / "weights").glob(".*.lock"))  # no lock files left behind
    with pytest.raises(AkitError) as err:
        zoo.ensure_weights(["fastpose_res50_256x192", "yolov3-spp"], download=False)
    assert str(err.value).count("are not downloaded; download them from") == 2


def test_own_checkpoint_under_a_weightless_name(home):
    target = home / "weights" / "hrnet_w48_256x192.pth"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"trained here")
    assert zoo.resolve_weights("hrnet_w48_256x192") == target


# --- find_by_file / texts -----------------------------------------------------------------------------------------


def test_find_by_file(tmp_path, monkeypatch):
    named = tmp_path / "fast_dcn_res50_256x192.pth"
    named.write_bytes(PAYLOAD)
    other = tmp_path / "renamed.pth"
    other.write_bytes(PAYLOAD)
    assert zoo.find_by_file(named).name == "fastpose_dcn_res50_256x192"
    assert zoo.find_by_file(other) is None
    _patch(monkeypatch, "fastpose_dcn_res50_256x192", sha256=hashlib.sha256(PAYLOAD).hexdigest())
    assert zoo.find_by_file(other).name == "fastpose_dcn_res50_256x192"  # a pinned hash finds renamed files
    _patch(monkeypatch, "fastpose_dcn_res50_256x192", sha256="2" * 64)
    assert zoo.find_by_file(named) is None  # right name, wrong bytes


def test_model_table_and_description(home):
    (home / "weights").mkdir(parents=True)
    (home / "weights" / "yolov5n.pt").write_bytes(b"x")
    table = zoo.format_model_table(zoo.list_models())
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "KEYPOINTS", "AP", "CACHED", "FILE"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert rows["fastpose_res50_256x192"][1:6] == ["pose", "coco17", "72.0", "no", "fast_res50_256x192.pth"]
    assert rows["yolov5n"][1:5] == ["detector", "-", "-", "yes"]
    assert "(no official weights)" in " ".join(rows["hrnet_w48_256x192"])
    assert str(home / "weights") in lines[-1]

    text = zoo.describe_entry(zoo.get_entry("yolov3-spp"))
    assert "https://drive.google.com/uc?export=download&id=1D47msNOOiJKvPOXlnpyzdKA3k6E97NTC" in text
    assert "https://pjreddie.com/media/files/yolov3-spp.weights" in text
    assert str(home / "weights" / "yolov3-spp.weights") in text and "not downloaded yet" in text
    text = zoo.describe_entry(zoo.get_entry("halpe26_fastpose_res50_256x192"))
    assert "halpe26 (26 joints)" in text and "configs/halpe_26/resnet/256x192_res50_lr1e-3_1x.yaml" in text
    assert "no official weights exist" in zoo.describe_entry(zoo.get_entry("hrnet_w48_256x192"))
