"""What the API returns (pydantic models, so /docs shows them): names are data, never markup."""

from __future__ import annotations

from pydantic import BaseModel

from alphapose_kit.serve.models import CaptureSession, Job, Subject, User


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class UserOut(BaseModel):
    id: int
    name: str
    role: str

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, name=user.name, role=user.role)


class SubjectOut(BaseModel):
    id: int
    name: str
    owner_id: int

    @classmethod
    def of(cls, subject: Subject) -> SubjectOut:
        return cls(id=subject.id, name=subject.name, owner_id=subject.owner_id)


class JobOut(BaseModel):
    id: int
    session_id: int
    status: str
    progress: float
    frames_done: int
    frames_total: int | None
    error: str | None

    @classmethod
    def of(cls, job: Job) -> JobOut:
        return cls(
            id=job.id,
            session_id=job.session_id,
            status=job.status,
            progress=job.progress,
            frames_done=job.frames_done,
            frames_total=job.frames_total,
            error=job.error,
        )


class SessionOut(BaseModel):
    id: int
    kind: str
    subject: SubjectOut
    owner_id: int
    exercise: str | None
    video_name: str | None
    video_bytes: int | None
    fps: float | None
    created_at: float
    job: JobOut | None

    @classmethod
    def of(cls, session: CaptureSession, subject: Subject, job: Job | None) -> SessionOut:
        return cls(
            id=session.id,
            kind=session.kind,
            subject=SubjectOut.of(subject),
            owner_id=session.owner_id,
            exercise=session.exercise,
            video_name=session.video_name,
            video_bytes=session.video_bytes,
            fps=session.fps,
            created_at=session.created_at,
            job=JobOut.of(job) if job else None,
        )


class FramesIn(BaseModel):
    received: int
    stored: int
    duplicates: int
