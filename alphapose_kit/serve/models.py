"""The database tables (SQLAlchemy 2): users and their tokens, subjects, sessions, jobs and pushed frames.

Times are UNIX seconds (floats), the same on SQLite and PostgreSQL. Files (videos, results) live under the data
folder; their paths here are relative to it. The schema itself is made by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import time

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ROLES = ("admin", "clinician")
JOB_STATES = ("queued", "running", "done", "failed")
NAME_LENGTH = 200


def now() -> float:
    """The current time as stored in every table."""
    return time.time()


class Base(DeclarativeBase):
    """Every table of the server."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[float] = mapped_column(Float)
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Subject(Base):
    __tablename__ = "subjects"
    __table_args__ = (UniqueConstraint("owner_id", "name", name="uq_subjects_owner_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[float] = mapped_column(Float, default=now)


class CaptureSession(Base):
    """One recording of a subject: an uploaded video (with its job) or an edge device's pushed frames."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("subjects.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "upload" or "edge"
    exercise: Mapped[str | None] = mapped_column(String(64), nullable=True)
    video_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    video_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH), nullable=True)  # as sent: shown, never used
    video_bytes: Mapped[int | None] = mapped_column(Integer, nullable=True)
    fps: Mapped[float | None] = mapped_column(Float, nullable=True)  # an edge session's frame rate
    created_at: Mapped[float] = mapped_column(Float, default=now)


class Job(Base):
    """Inference and analyses of one uploaded session; ``attempt`` counts claims, so a stale worker cannot write."""

    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    frames_done: Mapped[int] = mapped_column(Integer, default=0)
    frames_total: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    results_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    analysis_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=now)
    started_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Frame(Base):
    """One frame's results pushed by an edge device (a JSON Lines record of ``akit infer``); stored once."""

    __tablename__ = "frames"
    __table_args__ = (UniqueConstraint("session_id", "frame_index", name="uq_frames_session_frame"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    frame_index: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)
    received_at: Mapped[float] = mapped_column(Float, default=now)


class Alert(Base):
    """A fall found in an edge session's frames: one row per (session, track, frame), so it is reported once."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("session_id", "track_id", "frame", name="uq_alerts_session_track_frame"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    track_id: Mapped[int] = mapped_column(Integer)
    frame: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # the fall event as analysis.falls gives it, JSON
    created_at: Mapped[float] = mapped_column(Float, default=now)
