"""What a weights file is by its first bytes, before any loader parses it: a wrong file (notes, an empty download, a
darknet file given for YOLOv5) is then named in plain words instead of failing deep inside an unpickler."""

from __future__ import annotations

import zipfile
from pathlib import Path

__all__ = [
    "DARKNET", "EMPTY", "ONNX", "PICKLE", "TEXT", "TORCHSCRIPT", "TORCH_ZIP", "UNKNOWN", "describe_kind", "file_kind",
    "is_darknet_header",
]  # fmt: skip

TORCH_ZIP, TORCHSCRIPT, PICKLE, ONNX, DARKNET, EMPTY, TEXT, UNKNOWN = (
    "torch-zip", "torchscript", "pickle", "onnx", "darknet", "empty", "text", "unknown",
)  # fmt: skip
_WORDS = {
    TORCH_ZIP: "a PyTorch checkpoint",
    TORCHSCRIPT: "a TorchScript archive (akit export --format torchscript)",
    PICKLE: "a PyTorch checkpoint (legacy pickle)",
    ONNX: "an ONNX model (akit export --format onnx)",
    DARKNET: "darknet .weights (for yolov3-spp)",
    EMPTY: "an empty file",
    TEXT: "a text file",
    UNKNOWN: "neither a PyTorch file (zip archive or pickle) nor darknet weights",
}
_ZIP_MAGIC = b"PK\x03\x04"
# ONNX's ModelProto serialises ir_version (field 1, a small varint) first, then one of fields 2-7 (producer_name,
# producer_version, domain, model_version, doc_string, graph): onnx/onnx.proto
_ONNX_SECOND_TAGS = frozenset({0x12, 0x1A, 0x22, 0x28, 0x32, 0x3A})


def file_kind(path: str | Path) -> str:
    """One of TORCH_ZIP, TORCHSCRIPT, PICKLE, ONNX, DARKNET, EMPTY, TEXT or UNKNOWN, from the file's first bytes."""
    with Path(path).open("rb") as handle:
        head = handle.read(512)
    if not head:
        return EMPTY
    if head.startswith(_ZIP_MAGIC):
        return TORCHSCRIPT if _has_constants(Path(path)) else TORCH_ZIP
    if head.startswith(b"\x80"):  # pickle protocol 2+, as torch.save's legacy format writes
        return PICKLE
    if len(head) > 2 and head[0] == 0x08 and 1 <= head[1] < 64 and head[2] in _ONNX_SECOND_TAGS:
        return ONNX
    if is_darknet_header(head):
        return DARKNET
    if _is_text(head):
        return TEXT
    return UNKNOWN


def describe_kind(kind: str) -> str:
    """The kind in words, for messages such as "notes.txt is not a YOLOv5 checkpoint (a text file)"."""
    return _WORDS[kind]


def is_darknet_header(head: bytes) -> bool:
    """darknet's header starts with small major and minor version numbers (0 and 2 in the official files)."""
    if len(head) < 12:
        return False
    return int.from_bytes(head[:4], "little") < 1000 and int.from_bytes(head[4:8], "little") < 1000


def _has_constants(path: Path) -> bool:
    """A TorchScript archive (torch.jit.save) holds compiled code and constants; a torch.save archive does not."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(name.endswith("/constants.pkl") for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):  # cut short: its index is at the end, so it reads as a plain checkpoint
        return False


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the 512-byte boundary
            return False
        text = head[: exc.start].decode("utf-8")
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)
