"""Real parts for the server tests: `akit serve` as a subprocess on a free loopback port, a real SQLite file, a
random-weights pose checkpoint and a detection file so jobs run offline (as README "Trying it without any weights").

Jobs stay tiny: the shared 5-frame video, 128x96 crops, one torch thread.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch

from alphapose_kit.config import load_config
from alphapose_kit.models import build_pose_model
from tests.paths import DATA, REPO

SERVE_EXTRA = ("fastapi", "uvicorn", "sqlalchemy", "alembic", "argon2", "python_multipart", "httpx")
if any(importlib.util.find_spec(name) is None for name in SERVE_EXTRA):
    collect_ignore_glob = ["test_*.py"]  # the serve extra is not installed: pip install -e .[dev,serve]
else:
    import httpx

VIDEO = DATA / "video" / "people_walking.mp4"
BOXES = ([100.0, 150.0, 80.0, 200.0], [500.0, 120.0, 90.0, 240.0])  # x, y, w, h on every frame
PASSWORD = {"admin": "admin-pw", "alice": "alice-pw", "bob": "bob-pw"}
START_S = 90.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def job_options(tmp_path_factory) -> dict:
    """A FastPose-R50 with random weights and its output bias at 1 (every joint scores about 1, so P-NMS keeps
    every person), boxes from a detection file for 400 frames, small crops."""
    folder = tmp_path_factory.mktemp("models")
    torch.manual_seed(0)
    model = build_pose_model(load_config("coco/fastpose_res50_256x192"))
    with torch.no_grad():
        model.conv_out.bias.fill_(1.0)
    torch.save(model.state_dict(), folder / "pose.pth")
    records = [{"image_id": f"{frame}.jpg", "bbox": box, "score": 0.9} for frame in range(400) for box in BOXES]
    (folder / "dets.json").write_text(json.dumps(records))
    return {
        "checkpoint": str(folder / "pose.pth"),
        "detfile": str(folder / "dets.json"),
        "device": "cpu",
        "threads": 1,
        "opts": ["DATA_PRESET.IMAGE_SIZE", "[128,96]", "DATA_PRESET.HEATMAP_SIZE", "[32,24]"],
    }


def run_cli(*args: str, password: str | None = None, data_dir: Path) -> subprocess.CompletedProcess:
    """``akit serve --data-dir DIR ARGS`` in a fresh interpreter (the worktree's package first)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("AKIT_PASSWORD", None)
    command = [sys.executable, "-m", "alphapose_kit", "serve", "--data-dir", str(data_dir), *args]
    return subprocess.run(command, input=password, capture_output=True, text=True, env=env, timeout=120)


class Server:
    """One `akit serve` process; `url`, `start()`, `stop()` (SIGTERM) and `kill()` (SIGKILL, no clean-up)."""

    def __init__(self, data_dir: Path, job_options: dict, *args: str, db: str | None = None) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = ["--db", db] if db else []
        self.args = ["--port", str(self.port), "--job-options", json.dumps(job_options), *self.db, *args]
        self.process: subprocess.Popen | None = None
        self.log = data_dir.parent / f"{data_dir.name}-server.log"

    def add_users(self) -> None:
        for name, role in (("admin", "admin"), ("alice", "clinician"), ("bob", "clinician")):
            done = run_cli(
                "--create-user", name, "--role", role, *self.db, password=PASSWORD[name], data_dir=self.data_dir
            )
            assert done.returncode == 0, done.stderr

    def start(self) -> Server:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        command = [sys.executable, "-m", "alphapose_kit", "serve", "--data-dir", str(self.data_dir), *self.args]
        with self.log.open("a") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + START_S
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"server did not start in {START_S} s:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def token(self, name: str, password: str | None = None) -> str:
        answer = httpx.post(
            f"{self.url}/api/token", data={"username": name, "password": password or PASSWORD[name]}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["access_token"]

    def client(self, name: str) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token(name)}"}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


def wait_job(client: httpx.Client, job_id: int, timeout_s: float = 240.0) -> dict:
    """Poll a job until it is done or failed."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} not finished in {timeout_s} s: {job}")


def upload(client: httpx.Client, subject: str, path: Path = VIDEO, filename: str = "walk.mp4", **fields: str):
    with path.open("rb") as handle:
        return client.post(
            "/api/sessions", data={"subject": subject, **fields}, files={"video": (filename, handle, "video/mp4")}
        )


class Webhook:
    """A loopback HTTP server that keeps the JSON bodies POSTed to it (the fall webhook's receiver)."""

    def __init__(self) -> None:
        received: list[dict] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.received = received
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/falls"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture(scope="session")
def webhook():
    receiver = Webhook()
    yield receiver
    receiver.httpd.shutdown()


@pytest.fixture(scope="session")
def server(tmp_path_factory, job_options, webhook):
    """A server with three users (admin, clinicians alice and bob), one worker, a 1 MiB upload limit and the fall
    webhook."""
    folder = tmp_path_factory.mktemp("serve") / "data"
    args = ("--workers", "1", "--max-upload-mb", "1", "--fall-webhook", webhook.url)
    instance = Server(folder, job_options, *args)
    instance.add_users()
    instance.start()
    yield instance
    instance.stop()
