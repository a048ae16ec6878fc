"""The job queue is the jobs table: a worker claims a queued job with one conditional UPDATE (safe between
processes on SQLite and PostgreSQL), and every later write names the claim's ``attempt``, so a worker that lost its
job (the server restarted and re-queued it) can no longer change it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from alphapose_kit.serve.models import CaptureSession, Job, now


@dataclass(frozen=True)
class Claim:
    """A job this worker now runs: which one, which attempt, and the session's video."""

    job_id: int
    attempt: int
    session_id: int
    video_path: str
    exercise: str | None


def requeue_interrupted(db: Session) -> int:
    """Put jobs left running by a server that died back in the queue (at start-up); returns how many."""
    result = db.execute(update(Job).where(Job.status == "running").values(status="queued", progress=0.0))
    db.commit()
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_next(make_session: sessionmaker) -> Claim | None:
    """Take the oldest queued job, or None when the queue is empty (or another worker took it first)."""
    with make_session() as db:
        job = db.scalar(select(Job).where(Job.status == "queued").order_by(Job.id).limit(1))
        if job is None:
            return None
        attempt = job.attempt + 1
        result = db.execute(
            update(Job)
            .where(Job.id == job.id, Job.status == "queued", Job.attempt == job.attempt)
            .values(status="running", attempt=attempt, started_at=now(), progress=0.0, frames_done=0, error=None)
        )
        db.commit()
        if result.rowcount != 1:
            return None
        session = db.get(CaptureSession, job.session_id)
        assert session is not None and session.video_path is not None
        return Claim(job.id, attempt, session.id, session.video_path, session.exercise)


def update_claimed(make_session: sessionmaker, claim: Claim, **values: object) -> bool:
    """Write ``values`` to the claimed job if this claim still holds it; False when it does not."""
    with make_session() as db:
        result = db.execute(
            update(Job)
            .where(Job.id == claim.job_id, Job.attempt == claim.attempt, Job.status == "running")
            .values(**values)
        )
        db.commit()
        return result.rowcount == 1
