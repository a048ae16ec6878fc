"""Fetch weight files over HTTP: resumable, atomic, sha256-checked; standard library only (urllib).

``download(urls, dest)`` streams into ``<dest>.part`` and moves it to ``dest`` (``os.replace``) only once complete and
verified, so ``dest`` is never a half file: a failure or Ctrl-C leaves the ``.part``, and the next call resumes it with
an HTTP Range request. URLs are tried in order; when all fail, one ``DownloadError`` line says why and where to put a
manually downloaded copy. Google Drive's confirmation and error pages are read by :mod:`.gdrive`. One download per
file at a time, across threads and processes.
"""

from __future__ import annotations

import contextlib
import http.client
import http.cookiejar
import logging
import os
import re
import socket
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from alphapose_kit import __version__
from alphapose_kit.errors import DownloadError
from alphapose_kit.hub.gdrive import drive_confirm_url, html_reason, page_problem
from alphapose_kit.utils.hashing import file_sha256
from alphapose_kit.utils.progress import progress as progress_bar

log = logging.getLogger("akit.hub")

__all__ = ["download", "file_sha256", "part_path"]

USER_AGENT = f"alphapose-kit/{__version__} (+python-urllib)"
_CHUNK = 1 << 20  # bytes per read
_MAX_HTML = 2 << 20  # most bytes of an HTML answer read while looking for a confirm token
_MAX_HOPS = 5  # confirmation pages / restarts followed per attempt
_RETRIES = 2  # extra attempts (resuming) at one URL after the connection dropped mid-file


class _Failed(Exception):
    """One URL failed; ``str(exc)`` is a short, one-line reason."""


class _Dropped(_Failed):
    """The connection broke after some bytes reached the .part: worth resuming at the same URL."""


def part_path(dest: Path) -> Path:
    """Where an unfinished download of ``dest`` is kept: ``<dest>.part``."""
    return dest.with_suffix(dest.suffix + ".part")


def download(
    urls: str | Sequence[str],
    dest: str | Path,
    sha256: str | None = None,
    timeout: float = 10.0,
    progress: bool = True,
) -> Path:
    """Download the first URL that works to ``dest`` and return ``dest``.

    ``dest`` already present (and matching ``sha256`` when given) is returned without any network access. Without
    ``sha256`` the hash of the new file is logged (logger "akit.hub", INFO) so that it can be pinned. ``timeout``
    bounds connecting and every read (seconds). Raises ``DownloadError`` (one line) when no URL delivers a good file.
    """
    url_list = (urls,) if isinstance(urls, str) else tuple(urls)
    dest = Path(dest).expanduser()
    expected = sha256.strip().lower() if sha256 else None
    if not url_list:
        raise DownloadError(f"no download address is known for {dest.name}; put the file at {dest}")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DownloadError(f"cannot create {dest.parent} ({_oserror_text(err)}); choose a writable place") from None
    part = part_path(dest)

    with _exclusive(dest):
        if dest.is_file():
            if expected is None or file_sha256(dest) == expected:
                return dest  # already there (perhaps fetched by another thread or process while we waited)
            log.warning("%s does not match its sha256; downloading it again", dest)
        reasons: list[str] = []
        for url in url_list:
            try:
                digest = _fetch_verified(url, part, expected, timeout, progress, dest.name)
            except _Failed as exc:
                reasons.append(f"{_host(url)}: {exc}" if len(url_list) > 1 else str(exc))
                continue
            os.replace(part, dest)
            if expected is None:
                log.info("saved %s to %s; sha256 %s", dest.name, dest, digest)
            return dest
    raise DownloadError(
        f"could not download {dest.name} ({'; '.join(reasons)}); download it from {url_list[0]} and put it at {dest}"
    )


def _fetch_verified(url: str, part: Path, expected: str | None, timeout: float, progress: bool, label: str) -> str:
    """Complete ``part`` from ``url`` and return its sha256; a resumed file that fails the hash is fetched anew once."""
    for attempt in range(2):
        resumed = _fetch(url, part, timeout, progress, label)
        digest = file_sha256(part)
        if expected is None or digest == expected:
            return digest
        part.unlink(missing_ok=True)  # never keep (or resume) bytes that do not hash right
        if not resumed or attempt:
            break
    raise _Failed(f"sha256 mismatch: expected {expected}, got {digest}")


def _fetch(url: str, part: Path, timeout: float, progress: bool, label: str) -> bool:
    """Bring ``part`` to the complete file; True when earlier bytes were kept (resumed). Retries dropped streams."""
    resumed = False
    for attempt in range(_RETRIES + 1):
        try:
            return _fetch_once(url, part, timeout, progress, label) or resumed
        except _Dropped:
            resumed = True
            if attempt == _RETRIES:
                raise
    raise AssertionError("unreachable")


def _fetch_once(url: str, part: Path, timeout: float, progress: bool, label: str) -> bool:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    current = url
    for _ in range(_MAX_HOPS):
        offset = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        try:
            resp = opener.open(urllib.request.Request(current, headers=headers), timeout=timeout)
        except urllib.error.HTTPError as err:
            with contextlib.closing(err):
                if err.code == 416 and offset:  # nothing left after `offset`: complete, or a stale .part
                    if _range_total(err.headers.get("Content-Range")) == offset:
                        return True
                    part.unlink(missing_ok=True)
                    continue
                problem = _error_page_problem(err)
                raise _Failed(f"HTTP {err.code} {err.reason}".strip() + (f": {problem}" if problem else "")) from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as err:
            raise _Failed(_reason(err, timeout)) from None
        with resp:
            if resp.headers.get_content_type() == "text/html" and not label.endswith((".html", ".htm")):
                try:
                    raw = resp.read(_MAX_HTML)
                except (OSError, http.client.HTTPException) as err:
                    raise _Failed(_reason(err, timeout)) from None
                page = raw.decode(resp.headers.get_content_charset() or "utf-8", "replace")
                follow = drive_confirm_url(resp.geturl(), page, jar)
                if follow is None or follow == current:
                    raise _Failed(html_reason(page))
                current = follow
                continue
            return _stream(resp, part, offset, timeout, progress, label)
    raise _Failed("too many confirmation pages or restarts")


def _stream(resp: Any, part: Path, offset: int, timeout: float, progress: bool, label: str) -> bool:
    """Write the body of ``resp`` to ``part`` (appending for a 206 that starts at ``offset``)."""
    length_header = resp.headers.get("Content-Length", "")
    length = int(length_header) if length_header.strip().isdigit() else None
    if resp.status == 206:
        start, total = _content_range(resp.headers.get("Content-Range"))
        if start != offset:
            part.unlink(missing_ok=True)
            raise _Dropped(f"server answered byte {start} for a resume at byte {offset}")
        if total is None and length is not None:
            total = offset + length
        mode = "ab"
    else:  # 200: the whole file (the server ignored the Range header, or there was nothing to resume)
        offset, total, mode = 0, length, "wb"
    written = 0
    try:
        fh = open(part, mode)  # noqa: SIM115 (closed below; write errors must not pass for network errors)
    except OSError as err:
        raise DownloadError(f"cannot write {part} ({_oserror_text(err)}); choose a writable place") from None
    with fh, _progress_bar(total, offset, label, progress) as bar:
        while True:
            try:
                chunk = resp.read(_CHUNK)
            except (OSError, http.client.HTTPException) as err:
                reason = _reason(err, timeout)
                raise (_Dropped(reason) if written else _Failed(reason)) from None
            if not chunk:
                break
            try:
                fh.write(chunk)
            except OSError as err:
                raise DownloadError(f"cannot write {part} ({_oserror_text(err)})") from None
            written += len(chunk)
            bar.update(len(chunk))
        fh.flush()
        with contextlib.suppress(OSError):  # some file systems cannot fsync; the data is flushed anyway
            os.fsync(fh.fileno())
    size = offset + written
    if size == 0:
        raise _Failed("the server sent an empty file")
    if total is not None and size < total:
        reason = f"connection closed after {size} of {total} bytes"
        raise _Dropped(reason) if written else _Failed(reason)
    if total is not None and size > total:
        part.unlink(missing_ok=True)
        raise _Failed(f"server sent {size} bytes but announced {total}")
    return offset > 0


def _progress_bar(total: int | None, initial: int, label: str, enabled: bool) -> Any:
    """A byte counter on stderr: live on a terminal, a plain line every half minute in a log."""
    return progress_bar(
        total=total, initial=initial, desc=label, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled
    )


# --- one download per file at a time -----------------------------------------------------------------------

_THREAD_LOCKS: dict[str, threading.Lock] = {}
_THREAD_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def _exclusive(dest: Path) -> Iterator[None]:
    """Hold a per-file lock: a threading lock in this process plus ``flock`` on ``.<name>.lock`` across processes.

    The holder deletes the lock file before releasing it, so none is left behind; a waiter that then wins the lock
    on the deleted file notices (its inode is no longer at the path) and locks the current file instead.
    """
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(str(dest.absolute()), threading.Lock())
    with lock:
        try:
            import fcntl
        except ImportError:  # Windows: in-process lock only
            yield
            return
        lock_path = dest.with_name(f".{dest.name}.lock")
        warned = False
        while True:
            try:
                fh = open(lock_path, "a+b")  # noqa: SIM115 (closed below)
            except OSError as err:
                raise DownloadError(
                    f"cannot write {lock_path} ({_oserror_text(err)}); choose a writable place"
                ) from None
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                if not warned:
                    log.info("waiting for another download of %s to finish", dest.name)
                    warned = True
                fcntl.flock(fh, fcntl.LOCK_EX)
            if _same_file(fh, lock_path):
                break
            fh.close()  # locked a lock file its holder has just deleted: lock the one at the path now
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock_path.unlink()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()


def _same_file(fh: Any, path: Path) -> bool:
    try:
        here, there = os.fstat(fh.fileno()), os.stat(path)
    except OSError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def _error_page_problem(err: urllib.error.HTTPError) -> str | None:
    """The one-line problem an HTML body of an HTTP error states (Drive answers some quota errors with 403/429)."""
    if err.headers is None or err.headers.get_content_type() != "text/html":
        return None
    try:
        page = err.read(_MAX_HTML).decode(err.headers.get_content_charset() or "utf-8", "replace")
    except (OSError, http.client.HTTPException, AttributeError):
        return None
    return page_problem(page)


# --- small helpers ---------------------------------------------------------------------------------------------


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """(first byte, total size) of ``Content-Range: bytes a-b/total``; None for what is missing."""
    match = re.match(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)", value or "")
    if not match:
        return None, None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) != "*" else None)


def _range_total(value: str | None) -> int | None:
    """Total size from a 416's ``Content-Range: bytes */total``."""
    match = re.search(r"/(\d+)\s*$", value or "")
    return int(match.group(1)) if match else None


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).netloc or url


def _oserror_text(err: OSError) -> str:
    return err.strerror or str(err) or type(err).__name__


def _reason(err: BaseException, timeout: float) -> str:
    """A short one-line reason for a network failure."""
    if isinstance(err, urllib.error.URLError) and not isinstance(err.reason, str):
        inner = err.reason
    elif isinstance(err, urllib.error.URLError):
        return " ".join(str(err.reason).split()) or "network error"
    else:
        inner = err
    if isinstance(inner, TimeoutError | socket.timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(inner, socket.gaierror):
        return "cannot resolve the host name (offline?)"
    if isinstance(inner, ConnectionRefusedError):
        return "connection refused"
    if isinstance(inner, ConnectionResetError | ConnectionAbortedError | BrokenPipeError):
        return "connection reset"
    if isinstance(inner, ssl.SSLError):
        return f"TLS error: {inner.reason or inner}"
    if isinstance(inner, http.client.IncompleteRead):
        return "connection closed mid-file"
    if isinstance(inner, OSError) and inner.strerror:
        return inner.strerror
    text = " ".join(str(inner).split())
    return text or type(inner).__name__
