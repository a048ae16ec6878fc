"""Multipart uploads streamed straight to a file under the data folder, with a size limit checked as bytes arrive.

Starlette's form parsing spools files without any size cap [encode/starlette docs]; so the body is read here with
``request.stream()`` and python-multipart's streaming parser. The client's file name is never part of a path: the
file gets a random name, keeps only a known video suffix, and the name itself is kept for display only.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Any

from fastapi import HTTPException, Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from alphapose_kit.data.sources import VIDEO_SUFFIXES
from alphapose_kit.serve.models import NAME_LENGTH

MAX_FIELD_BYTES = 4096
MAX_FIELDS = 16
DEFAULT_SUFFIX = ".mp4"


def video_suffix(filename: str | None) -> str:
    """The stored file's suffix: the client's, when it is a known video suffix, else .mp4 (decoding decides)."""
    suffix = PurePath((filename or "").replace("\\", "/")).suffix.lower()
    return suffix if suffix in VIDEO_SUFFIXES else DEFAULT_SUFFIX


def display_name(filename: str | None) -> str | None:
    """The client's file name to show: its last part, without control characters, at most 200 characters."""
    if not filename:
        return None
    last = filename.replace("\\", "/").rsplit("/", 1)[-1]
    clean = "".join(c for c in last if unicodedata.category(c)[0] != "C")
    return clean[:NAME_LENGTH] or None


@dataclass
class Upload:
    """A received form: its text fields, and the file part as a temporary file (None if not sent)."""

    fields: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    filename: str | None = None
    size: int = 0

    def discard(self) -> None:
        """Remove the temporary file (a rejected or failed upload)."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class _FormReader:
    """Callbacks of the streaming parser: text fields in memory (capped), the file part into ``tmp_dir``."""

    def __init__(self, tmp_dir: Path, file_field: str, max_file_bytes: int) -> None:
        self.tmp_dir = tmp_dir
        self.file_field = file_field
        self.max_file_bytes = max_file_bytes
        self.upload = Upload()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._name = ""
        self._text = bytearray()
        self._file: IO[bytes] | None = None
        self.error: HTTPException | None = None

    def callbacks(self) -> Any:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": lambda data, start, end: self._header_name.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self._header_value.extend(data[start:end]),
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _fail(self, status: int, message: str) -> None:
        self.error = self.error or HTTPException(status, message)

    def _part_begin(self) -> None:
        self._headers, self._text = {}, bytearray()

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name, self._header_value = bytearray(), bytearray()

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition"))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == self.file_field:  # the file part, with or without a file name
            if self.upload.path is not None:
                self._fail(400, f"send one {self.file_field!r} file")
                return
            self.upload.filename = params.get(b"filename", b"").decode("utf-8", "replace")
            self.upload.path = self.tmp_dir / f"{secrets.token_hex(16)}.part"
            self._file = self.upload.path.open("wb")
        elif len(self.upload.fields) >= MAX_FIELDS:
            self._fail(400, f"more than {MAX_FIELDS} form fields")

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.error is not None:
            return
        if self._file is not None:
            self.upload.size += end - start
            if self.upload.size > self.max_file_bytes:
                self._fail(413, f"the video is over the upload limit of {self.max_file_bytes} bytes")
                return
            self._file.write(data[start:end])
            return
        self._text.extend(data[start:end])
        if len(self._text) > MAX_FIELD_BYTES:
            self._fail(413, f"form field {self._name!r} is over {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        elif self.error is None:
            self.upload.fields[self._name] = self._text.decode("utf-8", "replace")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


async def receive_form(request: Request, tmp_dir: Path, max_file_bytes: int, file_field: str = "video") -> Upload:
    """Read a multipart/form-data body, the ``file_field`` file streamed into ``tmp_dir``; 413 over the limit,
    before reading anything when Content-Length already says so."""
    content_type, params = parse_options_header(request.headers.get("content-type"))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise HTTPException(415, "send multipart/form-data")
    max_body = max_file_bytes + MAX_FIELDS * (MAX_FIELD_BYTES + 512)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_body:
        raise HTTPException(413, f"the upload is over the limit of {max_file_bytes} bytes")
    reader = _FormReader(tmp_dir, file_field, max_file_bytes)
    parser = MultipartParser(params[b"boundary"], reader.callbacks())
    received = 0
    try:
        async for chunk in request.stream():
            received += len(chunk)
            if reader.error is None:
                parser.write(chunk)
            if received > 2 * max_body:  # a client that keeps sending after the limit: stop reading
                break
        if reader.error is None:
            parser.finalize()
    except MultipartParseError:
        reader.error = reader.error or HTTPException(400, "malformed multipart body")
    finally:
        reader.close()
    if reader.error is not None:
        reader.upload.discard()
        raise reader.error
    return reader.upload
