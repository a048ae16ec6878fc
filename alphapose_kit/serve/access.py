"""Who sees what: a clinician only their own subjects and sessions, an admin everything. Anything else is 404,
so another clinician's ids are not even confirmed to exist."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from alphapose_kit.serve.models import CaptureSession, Job, Subject, User


def owned(query: Select[Any], owner_column: Any, user: User) -> Select[Any]:
    """``query`` limited to ``user``'s rows unless ``user`` is an admin."""
    return query if user.role == "admin" else query.where(owner_column == user.id)


def visible_session(db: Session, user: User, session_id: int) -> CaptureSession:
    """The session ``session_id`` if ``user`` may see it, else 404."""
    found = db.scalar(
        owned(select(CaptureSession).where(CaptureSession.id == session_id), CaptureSession.owner_id, user)
    )
    if found is None:
        raise HTTPException(404, f"no session {session_id}")
    return found


def visible_subject(db: Session, user: User, subject_id: int) -> Subject:
    """The subject ``subject_id`` if ``user`` may see it, else 404."""
    found = db.scalar(owned(select(Subject).where(Subject.id == subject_id), Subject.owner_id, user))
    if found is None:
        raise HTTPException(404, f"no subject {subject_id}")
    return found


def visible_job(db: Session, user: User, job_id: int) -> Job:
    """The job ``job_id`` if ``user`` may see its session, else 404."""
    query = select(Job).join(CaptureSession, CaptureSession.id == Job.session_id).where(Job.id == job_id)
    found = db.scalar(owned(query, CaptureSession.owner_id, user))
    if found is None:
        raise HTTPException(404, f"no job {job_id}")
    return found


def job_of(db: Session, session: CaptureSession) -> Job | None:
    """The job of an uploaded session (None for an edge session)."""
    return db.scalar(select(Job).where(Job.session_id == session.id))
