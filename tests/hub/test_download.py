"""The downloader against a local HTTP server (127.0.0.1 only; never the real network)."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from alphapose_kit.errors import DownloadError
from alphapose_kit.hub import download as dl
from alphapose_kit.hub.download import download, file_sha256, part_path
from tests.logcapture import captured_logs

PAYLOAD = bytes(range(256)) * 4096 + b"tail"  # ~1 MiB, not a multiple of the read size
SHA = hashlib.sha256(PAYLOAD).hexdigest()
TOKEN = "Xy_9-token"

FORM_PAGE = """<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning</title></head><body>
<p>Google Drive can't scan this file for viruses.</p>
<form id="download-form" action="{action}" method="get">
<input type="submit" id="uc-download-link" value="Download anyway"/>
<input type="hidden" name="id" value="{file_id}"><input type="hidden" name="export" value="download">
<input type="hidden" name="confirm" value="t"><input type="hidden" name="uuid" value="u-u-i-d">
</form></body></html>"""
COOKIE_PAGE = """<html><head><title>Google Drive - Virus scan warning</title></head><body>
<p>Google Drive can't scan this file for viruses.</p><a id="uc-download-link">Download anyway</a></body></html>"""
LINK_PAGE = """<html><body><p>Google Drive can't scan this file for viruses.</p>
<a id="uc-download-link" href="/link/uc?export=download&amp;confirm={token}&amp;id=abc">Download anyway</a>
</body></html>"""
JSON_PAGE = """<html><body><script>var config = {"title":"model.pth",
"downloadUrl":"{base}/jsonfile?id\\u003dabc\\u0026confirm\\u003dt"};</script></body></html>"""
CAPTION_PAGE = """<html><head><title>Google Drive - Error</title></head><body>
<p class="uc-error-caption">Sorry, you can't view or download this file at this time.</p>
<p class="uc-error-subcaption">The owner has restricted downloading of this file.</p></body></html>"""
QUOTA_PAGE = """<html><head><title>Google Drive - Quota exceeded</title></head><body>
<p>Too many users have viewed or downloaded this file recently. Please try accessing the file again later.</p>
</body></html>"""


class _State:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.die_after: int | None = None  # /flaky: bytes sent before the connection is dropped
        self.lock = threading.Lock()

    def seen(self, prefix: str) -> list[dict[str, str]]:
        with self.lock:
            return [headers for path, headers in self.requests if path.startswith(prefix)]


class _Handler(BaseHTTPRequestHandler):
    state: _State

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        with self.state.lock:
            self.state.requests.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
        route = url.path
        if route in ("/file.bin", "/other.bin"):
            self._send_file()
        elif route == "/flaky.bin":
            self._send_file(die_after=self.state.die_after)
        elif route == "/norange.bin":
            self._send_file(honour_range=False)
        elif route == "/html-as-file":
            self._send_html("<html><title>Index</title><body>not a checkpoint</body></html>")
        elif route == "/form/uc":
            action = f"http://{self.headers['Host']}/usercontent/download"
            self._send_html(FORM_PAGE.format(action=action, file_id=query.get("id", "")))
        elif route == "/usercontent/download":
            if query.get("confirm") == "t" and query.get("uuid") == "u-u-i-d" and query.get("id") == "abc":
                self._send_file()
            else:
                self._send_html(FORM_PAGE.format(action="/usercontent/download", file_id="abc"))
        elif route == "/cookie/uc":
            if query.get("confirm") == TOKEN and f"download_warning_123_abc={TOKEN}" in self.headers.get("Cookie", ""):
                self._send_file()
            else:
                self._send_html(COOKIE_PAGE, cookie=f"download_warning_123_abc={TOKEN}; Path=/")
        elif route == "/link/uc":
            if query.get("confirm") == TOKEN:
                self._send_file()
            else:
                self._send_html(LINK_PAGE.format(token=TOKEN))
        elif route == "/json/uc":
            self._send_html(JSON_PAGE.replace("{base}", f"http://{self.headers['Host']}"))
        elif route == "/jsonfile" and query == {"id": "abc", "confirm": "t"}:
            self._send_file()
        elif route == "/quota/uc":
            self._send_html(QUOTA_PAGE)
        elif route == "/quota403/uc":
            self._send_html(QUOTA_PAGE, status=403)
        elif route == "/caption/uc":
            self._send_html(CAPTION_PAGE)
        elif route == "/empty.bin":
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif route == "/hang":
            time.sleep(3)
            self._send_file()
        else:
            self.send_error(404, "Not Found")

    def _send_html(self, page: str, cookie: str | None = None, status: int = 200) -> None:
        body = page.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if cookie:
            self.send_header("Set-Cookie", cookie)
        self.end_headers()
        self.wfile.write(body)

    def _send_file(self, die_after: int | None = None, honour_range: bool = True) -> None:
        start = 0
        header = self.headers.get("Range")
        if header and honour_range:
            start = int(header.removeprefix("bytes=").split("-")[0])
            if start >= len(PAYLOAD):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(PAYLOAD)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200)
        body = PAYLOAD[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if die_after is not None and die_after < len(body):
            self.wfile.write(body[:die_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:  # clients that hang up early are expected here
        pass


@pytest.fixture
def server():
    state = _State()
    handler = type("Handler", (_Handler,), {"state": state})
    httpd = _QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    try:
        yield base, state
    finally:
        httpd.shutdown()
        httpd.server_close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_plain_download_logs_sha_when_unpinned(server, tmp_path):
    base, _ = server
    dest = tmp_path / "w" / "model.pth"
    with captured_logs() as logs:
        assert download(f"{base}/file.bin", dest, progress=False) == dest
    assert dest.read_bytes() == PAYLOAD
    assert not part_path(dest).exists()
    assert any(SHA in line for line in logs)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.pth"]  # no .part, no .lock left behind


def test_existing_file_is_not_fetched_again(server, tmp_path):
    base, state = server
    dest = tmp_path / "model.pth"
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert len(state.seen("/file.bin")) == 1


def test_sha256_pass_and_mismatch(server, tmp_path):
    base, _ = server
    good = tmp_path / "good.pth"
    with captured_logs() as logs:
        download(f"{base}/file.bin", good, sha256=SHA.upper(), progress=False)
    assert good.read_bytes() == PAYLOAD
    assert not any(SHA in line for line in logs)  # pinned: nothing to say

    bad = tmp_path / "bad.pth"
    with pytest.raises(DownloadError) as err:
        download(f"{base}/file.bin", bad, sha256="0" * 64, progress=False)
    message = str(err.value)
    assert "\n" not in message and "sha256 mismatch" in message and SHA in message
    assert not bad.exists() and not part_path(bad).exists()


def test_dropped_connection_resumes_with_range(server, tmp_path, monkeypatch):
    base, state = server
    monkeypatch.setattr(dl, "_RETRIES", 0)  # fail at once instead of resuming within the call
    state.die_after = len(PAYLOAD) // 2
    dest = tmp_path / "model.pth"
    with pytest.raises(DownloadError) as err:
        download(f"{base}/flaky.bin", dest, progress=False)
    assert "connection closed after" in str(err.value)
    part = part_path(dest)
    assert not dest.exists(), "a half file must never be at dest"
    assert part.stat().st_size == len(PAYLOAD) // 2

    state.die_after = None
    download(f"{base}/flaky.bin", dest, sha256=SHA, progress=False)
    last = state.seen("/flaky.bin")[-1]
    assert last.get("range") == f"bytes={len(PAYLOAD) // 2}-"
    assert dest.read_bytes() == PAYLOAD and not part.exists()


def test_dropped_connection_is_resumed_within_one_call(server, tmp_path):
    base, state = server
    state.die_after = len(PAYLOAD) // 3 + 1  # every answer dies after a third: three attempts complete the file
    dest = tmp_path / "model.pth"
    download(f"{base}/flaky.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    ranges = [h.get("range") for h in state.seen("/flaky.bin")]
    assert ranges[0] is None and ranges[1] == f"bytes={len(PAYLOAD) // 3 + 1}-"


def test_server_ignoring_range_restarts_from_zero(server, tmp_path):
    base, state = server
    dest = tmp_path / "model.pth"
    part_path(dest).write_bytes(b"stale bytes from elsewhere")
    download(f"{base}/norange.bin", dest, sha256=SHA, progress=False)
    assert state.seen("/norange.bin")[0].get("range") == "bytes=26-"
    assert dest.read_bytes() == PAYLOAD


def test_complete_part_416_counts_as_done(server, tmp_path):
    base, state = server
    dest = tmp_path / "model.pth"
    part_path(dest).write_bytes(PAYLOAD)
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert len(state.seen("/file.bin")) == 1  # the 416 only, no second full transfer


def test_oversized_part_416_restarts(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    part_path(dest).write_bytes(PAYLOAD + b"extra garbage")
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


def test_resumed_part_with_wrong_bytes_is_fetched_again(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    part_path(dest).write_bytes(b"\xff" * 1000)  # wrong prefix: the resumed file fails the hash once
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD


@pytest.mark.parametrize("route", ["/form/uc?export=download&id=abc", "/cookie/uc?export=download&id=abc",
                                   "/link/uc?export=download&id=abc", "/json/uc?export=download&id=abc"])  # fmt: skip
def test_google_drive_confirm_pages(server, tmp_path, route):
    base, state = server
    dest = tmp_path / "model.pth"
    download(f"{base}{route}", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    if route.startswith("/form"):
        assert len(state.seen("/usercontent/download?")) == 1


def test_drive_confirm_resumes_a_part(server, tmp_path):
    base, state = server
    dest = tmp_path / "model.pth"
    part_path(dest).write_bytes(PAYLOAD[:1234])
    download(f"{base}/form/uc?export=download&id=abc", dest, sha256=SHA, progress=False)
    assert state.seen("/usercontent/download")[0].get("range") == "bytes=1234-"
    assert dest.read_bytes() == PAYLOAD


def test_quota_page_is_one_line_error(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    url = f"{base}/quota/uc?export=download&id=abc"
    with pytest.raises(DownloadError) as err:
        download(url, dest, progress=False)
    message = str(err.value)
    assert "\n" not in message and "quota" in message and url in message and str(dest) in message
    assert not dest.exists() and not part_path(dest).exists()


@pytest.mark.parametrize(
    ("route", "expected"),
    [("/quota403/uc", "HTTP 403 Forbidden: Google Drive's download quota"),
     ("/caption/uc", "Google Drive says: Sorry, you can't view or download this file at this time.")],
)  # fmt: skip
def test_drive_error_pages_are_explained(server, tmp_path, route, expected):
    base, _ = server
    with pytest.raises(DownloadError) as err:
        download(f"{base}{route}?export=download&id=abc", tmp_path / "model.pth", progress=False)
    assert expected in str(err.value) and "\n" not in str(err.value)


def test_empty_answer_and_corrupt_existing_file(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    with pytest.raises(DownloadError, match="empty file"):
        download(f"{base}/empty.bin", dest, progress=False)
    assert not dest.exists()
    dest.write_bytes(b"corrupt")
    with captured_logs() as logs:
        download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    assert any("does not match its sha256; downloading it again" in line for line in logs)


def test_html_instead_of_file_is_refused(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    with pytest.raises(DownloadError, match="HTML page"):
        download(f"{base}/html-as-file", dest, progress=False)
    assert not dest.exists()


def test_http_404_then_next_url(server, tmp_path):
    base, _ = server
    dest = tmp_path / "model.pth"
    download([f"{base}/missing.bin", f"{base}/file.bin"], dest, sha256=SHA, progress=False)
    assert dest.read_bytes() == PAYLOAD
    with pytest.raises(DownloadError) as err:
        download([f"{base}/missing.bin", f"{base}/gone.bin"], tmp_path / "x.pth", progress=False)
    message = str(err.value)
    assert "HTTP 404" in message and f"{base}/missing.bin" in message and "\n" not in message


def test_offline_error_is_fast_and_one_line(tmp_path):
    url = f"http://127.0.0.1:{_closed_port()}/weights/model.pth"
    dest = tmp_path / "weights" / "model.pth"
    started = time.monotonic()
    with pytest.raises(DownloadError) as err:
        download(url, dest, progress=False)
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("could not download model.pth (")
    assert f"download it from {url} and put it at {dest}" in message
    assert not dest.exists()


def test_silent_server_times_out(server, tmp_path):
    base, _ = server
    started = time.monotonic()
    with pytest.raises(DownloadError, match="no answer within 0.3 s"):
        download(f"{base}/hang", tmp_path / "model.pth", timeout=0.3, progress=False)
    assert time.monotonic() - started < 2.5


def test_interrupt_keeps_part_and_never_touches_dest(server, tmp_path, monkeypatch):
    base, state = server

    class Interrupting:
        def __init__(self, *args, **kwargs):
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n):
            raise KeyboardInterrupt

    monkeypatch.setattr(dl, "_CHUNK", 64 * 1024)
    monkeypatch.setattr(dl, "_progress_bar", lambda *a, **k: Interrupting())
    dest = tmp_path / "model.pth"
    with pytest.raises(KeyboardInterrupt):
        download(f"{base}/file.bin", dest, progress=False)
    part = part_path(dest)
    assert not dest.exists()
    assert 0 < part.stat().st_size < len(PAYLOAD)

    monkeypatch.undo()
    download(f"{base}/file.bin", dest, sha256=SHA, progress=False)
    assert state.seen("/file.bin")[-1].get("range") == f"bytes={64 * 1024}-"
    assert dest.read_bytes() == PAYLOAD


def test_concurrent_downloads_of_one_file(server, tmp_path):
    base, state = server
    dest = tmp_path / "model.pth"
    results: list[Path | BaseException] = []

    def worker() -> None:
        try:
            results.append(download(f"{base}/file.bin", dest, sha256=SHA, progress=False))
        except BaseException as exc:
            results.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == [dest] * 4
    assert dest.read_bytes() == PAYLOAD
    assert len(state.seen("/file.bin")) == 1


def test_progress_bar_in_a_log_is_plain_lines(server, tmp_path, capsys):
    base, _ = server
    dest = tmp_path / "model.pth"
    download(f"{base}/file.bin", dest, sha256=SHA, progress=True)
    assert dest.read_bytes() == PAYLOAD
    err = capsys.readouterr().err  # pytest's stderr is not a terminal
    assert "model.pth" in err and "100%" in err and "\r" not in err and err.endswith("\n")


_HOLD_LOCK = """
import fcntl, os, sys
fh = open(sys.argv[1], "a+b")
fcntl.flock(fh, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.readline()
os.unlink(sys.argv[1])  # what a finishing download does: delete the lock file, then release it
fcntl.flock(fh, fcntl.LOCK_UN)
"""


@pytest.mark.skipif(os.name != "posix", reason="flock")
def test_lock_file_is_deleted_and_a_waiter_locks_the_current_one(tmp_path):
    dest = tmp_path / "model.pth"
    lock_path = tmp_path / ".model.pth.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(lock_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        acquired, lock_file_is_ours = threading.Event(), []

        def wait_for_lock() -> None:
            with dl._exclusive(dest):
                lock_file_is_ours.append(lock_path.exists())  # a lock file sits at the path: the one we hold
                acquired.set()

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        time.sleep(0.3)
        assert not acquired.is_set()  # the other process holds it
        holder.stdin.write("go\n")
        holder.stdin.flush()
        waiter.join(10)
        assert acquired.is_set() and lock_file_is_ours == [True]
        assert not lock_path.exists()  # and we deleted ours on the way out
    finally:
        holder.kill()
        holder.wait()


def test_unwritable_destination_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(DownloadError) as err:
        download("http://127.0.0.1:9/x", blocker / "sub" / "model.pth", progress=False)
    assert "\n" not in str(err.value) and "cannot create" in str(err.value)


def test_file_sha256(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(PAYLOAD)
    assert file_sha256(path) == SHA
    assert os.path.getsize(path) == len(PAYLOAD)
