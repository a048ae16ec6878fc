"""One ``file_sha256`` for weights (hub) and training manifests (engine), checked against hashlib on known bytes."""

from __future__ import annotations

import hashlib

from alphapose_kit.engine import run_files
from alphapose_kit.hub import download
from alphapose_kit.utils.hashing import file_sha256


def test_one_home_for_file_hashes() -> None:
    assert download.file_sha256 is file_sha256 and run_files.file_sha256 is file_sha256


def test_hash_of_a_file_larger_than_one_block(tmp_path) -> None:
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1 MiB read
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    (tmp_path / "empty").write_bytes(b"")
    assert file_sha256(tmp_path / "empty") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
