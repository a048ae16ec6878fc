"""Worker processes: each takes queued jobs from the database and runs them with the library, inference with
tracking (:func:`~alphapose_kit.engine.infer.run_inference`) then the analyses, reporting progress as it goes.

Workers are separate interpreters (``python -m alphapose_kit.serve.worker``), started and stopped by the server's
:class:`WorkerPool`; one that finds its server gone exits at once, leaving its job to be re-queued at the next start.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from alphapose_kit.errors import AkitError
from alphapose_kit.io.atomic import atomic_write_text
from alphapose_kit.io.writers import JSON_NAME, JSONL_NAME
from alphapose_kit.serve.db import make_engine, make_sessionmaker
from alphapose_kit.serve.jobs import Claim, claim_next, update_claimed
from alphapose_kit.serve.models import now
from alphapose_kit.serve.settings import ServeSettings
from alphapose_kit.utils.signals import terminate_as_interrupt

log = logging.getLogger("akit.serve")
SETTINGS_ENV = "AKIT_SERVE_SETTINGS"
PARENT_ENV = "AKIT_SERVE_PARENT"
POLL_S = 0.3
ANALYSIS_NAME = "analysis.json"


def one_line(exc: BaseException) -> str:
    """An error as the single line a job's status shows."""
    text = " ".join(str(exc).split())
    return text if isinstance(exc, AkitError) else f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def probe_video(path: Path) -> int | None:
    """Decode the first frame with OpenCV: the upload's type check; returns the frame count (None if unknown)."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        ok = capture.isOpened() and capture.read()[0]
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) if ok else 0
    finally:
        capture.release()
    if not ok:
        raise AkitError("the upload is not a video OpenCV can decode (no frame could be read)")
    return count if count > 0 else None


class ProgressWatcher:
    """Counts the finished frames of a running inference (lines of its JSON Lines stream) and reports them."""

    def __init__(self, stream: Path, report: Callable[[int], object]) -> None:
        self.stream = stream
        self.report = report
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="akit-progress", daemon=True)
        self._seen = -1

    def _count(self) -> int:
        try:
            with self.stream.open("rb") as handle:
                return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 16), b""))
        except OSError:
            return 0

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            done = self._count()
            if done != self._seen:
                self._seen = done
                self.report(done)

    def __enter__(self) -> ProgressWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_job(settings: ServeSettings, make_session: sessionmaker, claim: Claim) -> None:
    """Check the video decodes, infer with tracking, analyse, record the files: done, or failed with one line."""
    from alphapose_kit.engine.infer import run_inference
    from alphapose_kit.serve.analysis import session_analysis

    folder = Path("sessions") / str(claim.session_id)
    outdir = settings.data_dir / folder / "inference"
    try:
        total = probe_video(settings.data_dir / claim.video_path)
        update_claimed(make_session, claim, frames_total=total)

        def report(done: int) -> None:
            progress = min(done / total, 0.99) if total else 0.0
            update_claimed(make_session, claim, frames_done=done, progress=progress)

        options = settings.infer_options(str(settings.data_dir / claim.video_path), str(outdir))
        with ProgressWatcher(outdir / JSONL_NAME, report):
            summary = run_inference(options)
        analysis = session_analysis(outdir / JSON_NAME, claim.exercise)
        atomic_write_text(settings.data_dir / folder / ANALYSIS_NAME, json.dumps(analysis, allow_nan=False))
    except KeyboardInterrupt:  # stopped with the server: back in the queue for the next start
        update_claimed(make_session, claim, status="queued", progress=0.0)
        raise
    except Exception as exc:
        if isinstance(exc, AkitError):
            log.warning("job %d failed: %s", claim.job_id, exc)
        else:
            log.exception("job %d failed", claim.job_id)
        update_claimed(make_session, claim, status="failed", error=one_line(exc), finished_at=now())
        return
    update_claimed(
        make_session,
        claim,
        status="done",
        progress=1.0,
        frames_done=summary.frames,
        results_path=str(folder / "inference" / JSON_NAME),
        analysis_path=str(folder / ANALYSIS_NAME),
        finished_at=now(),
    )


def _exit_with_parent(parent: int) -> None:
    """A worker whose server died (even by SIGKILL) stops at once: its job is the restarted server's to re-queue."""
    while True:
        if os.getppid() != parent:
            os._exit(3)
        time.sleep(0.2)


def worker_main() -> None:
    """A worker's life: claim a job, run it, repeat; the settings come from the server in the environment."""
    settings = ServeSettings.from_json(os.environ[SETTINGS_ENV])
    threading.Thread(target=_exit_with_parent, args=(int(os.environ[PARENT_ENV]),), daemon=True).start()
    make_session = make_sessionmaker(make_engine(settings.database_url))
    try:
        with terminate_as_interrupt():
            while True:
                claim = claim_next(make_session)
                if claim is None:
                    time.sleep(POLL_S)
                else:
                    run_job(settings, make_session, claim)
    except KeyboardInterrupt:
        return


class WorkerPool:
    """``settings.workers`` worker processes, restarted if one dies; stopped with the server."""

    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.processes: list[subprocess.Popen] = []
        self._stop = threading.Event()
        self._monitor = threading.Thread(target=self._watch, name="akit-workers", daemon=True)

    def _spawn(self) -> subprocess.Popen:
        env = {**os.environ, SETTINGS_ENV: self.settings.to_json(), PARENT_ENV: str(os.getpid())}
        return subprocess.Popen([sys.executable, "-m", "alphapose_kit.serve.worker"], env=env)

    def start(self) -> None:
        """Start the workers and the thread that replaces any that exits."""
        self.processes = [self._spawn() for _ in range(self.settings.workers)]
        self._monitor.start()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            for n, process in enumerate(self.processes):
                if process.poll() is not None and not self._stop.is_set():
                    log.warning("worker %d exited with %s; starting another", process.pid, process.returncode)
                    self.processes[n] = self._spawn()

    def stop(self, grace_s: float = 10.0) -> None:
        """Ask every worker to stop (its running job goes back to the queue), then kill what is left."""
        self._stop.set()
        for process in self.processes:
            process.terminate()
        deadline = time.monotonic() + grace_s
        for process in self.processes:
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


if __name__ == "__main__":
    worker_main()
