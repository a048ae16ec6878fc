"""The server's settings, in one object: where its database and files live, how it listens, how jobs run."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alphapose_kit.errors import AkitError

# InferOptions fields a job sets itself: the source, its folder and the tracking every analysis needs
JOB_FIXED = ("source", "outdir", "exist_ok", "track", "quiet")
DB_NAME = "akit.db"


@dataclass
class ServeSettings:
    """Everything ``akit serve`` takes; ``job_options`` are InferOptions fields for every job (model, detector...)."""

    data_dir: Path = Path("akit-serve")
    db_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    max_upload_bytes: int = 512 * 1024 * 1024
    token_ttl_s: float = 12 * 3600.0
    job_options: dict[str, Any] = field(default_factory=dict)
    fall_webhook: str | None = None  # falls in edge streams are POSTed here as JSON

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)

    @property
    def database_url(self) -> str:
        """``db_url``, or the embedded SQLite file in the data folder."""
        return self.db_url or f"sqlite:///{(self.data_dir / DB_NAME).resolve()}"

    def validate(self) -> None:
        """Reject bad settings in one line before the server starts (job options included)."""
        if not 0 < self.port < 65536:
            raise AkitError(f"--port must be in 1..65535, got {self.port}")
        if self.workers < 0:
            raise AkitError(f"--workers must not be negative, got {self.workers}")
        if self.max_upload_bytes < 1:
            raise AkitError(f"--max-upload-mb must be positive, got {self.max_upload_bytes} bytes")
        if self.token_ttl_s <= 0:
            raise AkitError(f"--token-ttl must be positive, got {self.token_ttl_s}")
        if self.fall_webhook is not None and not self.fall_webhook.startswith(("http://", "https://")):
            raise AkitError(f"--fall-webhook takes an http(s):// URL, got {self.fall_webhook!r}")
        self.infer_options("video.mp4", ".").validate()

    def infer_options(self, source: str, outdir: str) -> Any:
        """The InferOptions of one job: ``job_options`` plus the job's source and folder, with tracking on."""
        from alphapose_kit.engine.options import InferOptions

        known = {f.name for f in dataclasses.fields(InferOptions)}
        unknown = sorted(set(self.job_options) - known)
        fixed = sorted(set(self.job_options) & set(JOB_FIXED))
        if unknown:
            raise AkitError(f"unknown job option {unknown[0]!r}; use InferOptions field names (e.g. checkpoint)")
        if fixed:
            raise AkitError(f"job option {fixed[0]!r} is set by each job; leave it out")
        try:
            return InferOptions(source=source, outdir=outdir, exist_ok=True, track=True, quiet=True, **self.job_options)
        except TypeError as exc:
            raise AkitError(f"bad job options ({exc})") from None

    def to_json(self) -> str:
        """The settings as JSON, for the worker processes."""
        data = dataclasses.asdict(self)
        data["data_dir"] = str(self.data_dir.resolve())
        data["db_url"] = self.database_url
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServeSettings:
        """Settings written by :meth:`to_json`."""
        return cls(**json.loads(text))


def parse_job_options(text: str | None) -> dict[str, Any]:
    """``--job-options``: a JSON object of InferOptions fields, or a file holding one."""
    if not text:
        return {}
    path = Path(text)
    try:
        raw = path.read_text() if not text.lstrip().startswith("{") and path.is_file() else text
        value = json.loads(raw)
    except (OSError, ValueError) as exc:
        raise AkitError(f"--job-options is not a JSON object or a file holding one ({exc})") from None
    if not isinstance(value, dict):
        raise AkitError('--job-options must be a JSON object of InferOptions fields, e.g. \'{"checkpoint": "w.pth"}\'')
    return value
