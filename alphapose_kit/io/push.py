"""The edge side of ``akit infer --push URL --token T [--session ID]``: each finished frame's record (the JSON
Lines record ``akit infer`` writes) goes to ``POST /api/sessions/{id}/frames``.

Every record is first appended to a buffer file on disk (flushed and fsynced), and leaves it only once the server
has answered 2xx for it, so an outage (or a crash of the edge process) loses no frame: the buffer is replayed in
order when the server answers again. A replay the server already stored is skipped there (frames are unique per
session). Standard library only: an edge device needs no server packages.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text

BATCH = 200  # frames per request
RETRYABLE = (408, 425, 429, 500, 502, 503, 504)


class Unreachable(Exception):
    """The server did not answer (or answered with a status worth retrying)."""


class FramePusher:
    """Pushes frame records to an akit server through an on-disk buffer; ``session_id`` None: an edge session is
    created (for ``subject``, at ``fps`` frames/s) the first time the server answers."""

    def __init__(
        self,
        url: str,
        token: str,
        buffer: str | Path,
        session_id: int | None = None,
        subject: str = "edge device",
        fps: float | None = None,
        timeout_s: float = 10.0,
        retry_s: float = 2.0,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise AkitError(f"--push takes the server's http(s):// URL, got {url!r}")
        if not token:
            raise AkitError("--push needs --token (POST /api/token on the server gives one)")
        self.url = url.rstrip("/")
        self.token = token
        self.buffer = Path(buffer)
        self.session_id = session_id
        self.subject = subject
        self.fps = fps
        self.timeout_s = timeout_s
        self.retry_s = retry_s
        self._retry_at = 0.0
        self.buffer.parent.mkdir(parents=True, exist_ok=True)
        self.buffer.touch()

    def pending(self) -> list[str]:
        """The buffered records not yet acknowledged, oldest first (a torn last line is dropped)."""
        text = self.buffer.read_text(encoding="utf-8")
        return [line for line in text.splitlines(keepends=True) if line.endswith("\n")]

    def push(self, record: dict[str, Any]) -> bool:
        """Buffer ``record`` durably, then send what is buffered unless waiting out an outage; True when all sent."""
        line = json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n"
        with self.buffer.open("a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        if time.monotonic() < self._retry_at:
            return False
        return self.flush()

    def flush(self) -> bool:
        """Send the buffer in order; True when it is empty. An outage leaves the rest buffered (retried later);
        a refusal (bad token, unknown session) is one line."""
        try:
            lines = self.pending()
            if lines and self.session_id is None:
                self.session_id = self._create_session()
            while lines:
                batch, lines = lines[:BATCH], lines[BATCH:]
                self._request(
                    f"/api/sessions/{self.session_id}/frames", "".join(batch).encode(), "application/x-ndjson"
                )
                atomic_write_text(self.buffer, lines)  # acknowledged: only the rest stays buffered
        except Unreachable:
            self._retry_at = time.monotonic() + self.retry_s
            return False
        return True

    def close(self, wait_s: float = 30.0) -> int:
        """Try to send what is buffered for up to ``wait_s`` seconds; returns how many records are still buffered
        (they stay in the buffer file for the next run)."""
        deadline = time.monotonic() + wait_s
        while not self.flush() and time.monotonic() < deadline:
            time.sleep(min(self.retry_s, max(0.0, deadline - time.monotonic())))
        return len(self.pending())

    def _create_session(self) -> int:
        boundary = secrets.token_hex(16)
        fields = {"subject": self.subject, **({"fps": str(self.fps)} if self.fps else {})}
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()
        ]
        body = ("".join(parts) + f"--{boundary}--\r\n").encode()
        answer = self._request("/api/sessions", body, f"multipart/form-data; boundary={boundary}")
        return int(answer["id"])

    def _request(self, path: str, body: bytes, content_type: str) -> Any:
        request = urllib.request.Request(
            self.url + path,
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": content_type},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            if exc.code in RETRYABLE:
                raise Unreachable(str(exc)) from None
            detail = _detail(exc)
            raise AkitError(f"the server refused the push to {self.url}{path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unreachable(str(exc)) from None


def _detail(exc: urllib.error.HTTPError) -> str:
    """The server's one-line reason (FastAPI's ``detail``), if it sent one."""
    try:
        detail = json.loads(exc.read()).get("detail", "")
    except (ValueError, AttributeError, OSError):
        return exc.reason or ""
    return " ".join(str(detail).split())
