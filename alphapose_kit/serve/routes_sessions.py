"""Subjects and sessions: upload a video (a job is queued), read its results and analysis, push edge frames."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from alphapose_kit.analysis.reps import EXERCISES
from alphapose_kit.errors import AkitError
from alphapose_kit.serve.access import job_of, owned, visible_session, visible_subject
from alphapose_kit.serve.alerts import edge_analysis, notify, record_falls, session_alerts
from alphapose_kit.serve.db import upsert_insert
from alphapose_kit.serve.deps import DB, CurrentUser, Settings
from alphapose_kit.serve.frames import parse_lines, session_frames, store_frames
from alphapose_kit.serve.models import NAME_LENGTH, CaptureSession, Job, Subject, now
from alphapose_kit.serve.schemas import FramesIn, SessionOut, SubjectOut
from alphapose_kit.serve.settings import ServeSettings
from alphapose_kit.serve.upload import Upload, display_name, receive_form, video_suffix

router = APIRouter(prefix="/api", tags=["sessions"])
UPLOADS = "uploads"
MAX_PUSH_BYTES = 16 * 1024 * 1024
MAX_FPS = 1000.0
UPLOAD_FORM = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["subject"],
                    "properties": {
                        "video": {"type": "string", "format": "binary", "description": "none: an edge session"},
                        "subject": {"type": "string", "maxLength": NAME_LENGTH},
                        "exercise": {"type": "string", "enum": list(EXERCISES)},
                        "fps": {"type": "number", "description": "an edge session's frame rate"},
                    },
                }
            }
        },
    }
}


def _text_field(fields: dict[str, str], name: str, required: bool) -> str | None:
    value = fields.get(name, "").strip()
    if not value:
        if required:
            raise HTTPException(422, f"form field {name!r} is required")
        return None
    if len(value) > NAME_LENGTH or not value.isprintable():
        raise HTTPException(422, f"form field {name!r} must be 1 to {NAME_LENGTH} printable characters")
    return value


def _fps_field(upload: Upload) -> float | None:
    """An edge session's ``fps`` field: a positive number (an upload's frame rate is its video's)."""
    text = upload.fields.get("fps", "").strip()
    if not text:
        return None
    if upload.path is not None:
        raise HTTPException(422, "form field 'fps' is for edge sessions (an upload's frame rate is its video's)")
    try:
        fps = float(text)
    except ValueError:
        fps = 0.0
    if not 0 < fps <= MAX_FPS:
        raise HTTPException(422, f"form field 'fps' must be a number in (0, {MAX_FPS}]")
    return fps


def _subject(db: Session, user_id: int, name: str) -> Subject:
    """The user's subject of this name, created on first use: an upsert, so concurrent uploads make one."""
    values = {"owner_id": user_id, "name": name, "created_at": now()}
    db.execute(upsert_insert(db)(Subject).values(values).on_conflict_do_nothing(index_elements=["owner_id", "name"]))
    found = db.scalar(select(Subject).where(Subject.owner_id == user_id, Subject.name == name))
    assert found is not None
    return found


def _record(
    make_session: sessionmaker,
    settings: ServeSettings,
    user_id: int,
    upload: Upload,
    subject: str,
    exercise: str | None,
    fps: float | None,
) -> SessionOut:
    """The session (and its job, for a video) in the database, the video moved into the session's folder."""
    with make_session() as db:
        kind = "upload" if upload.path is not None else "edge"
        subject_id = _subject(db, user_id, subject).id
        session = CaptureSession(owner_id=user_id, subject_id=subject_id, kind=kind, exercise=exercise, fps=fps)
        db.add(session)
        db.flush()
        job = None
        if upload.path is not None:
            relative = Path("sessions") / str(session.id) / f"video{video_suffix(upload.filename)}"
            target = settings.data_dir / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(upload.path, target)
            session.video_path, session.video_bytes = str(relative), upload.size
            session.video_name = display_name(upload.filename)
            job = Job(session_id=session.id, status="queued", progress=0.0, frames_done=0, attempt=0)
            db.add(job)
        db.commit()
        subject_row = db.get(Subject, session.subject_id)
        assert subject_row is not None
        return SessionOut.of(session, subject_row, job)


@router.post("/sessions", status_code=201, openapi_extra=UPLOAD_FORM)
async def create_session(request: Request, user: CurrentUser, settings: Settings) -> SessionOut:
    """Multipart ``video`` (streamed to disk, size-limited), ``subject`` and optional ``exercise``: queues a job.
    Without ``video`` the session is an edge device's, filled by ``POST /api/sessions/{id}/frames``."""
    upload = await receive_form(request, settings.data_dir / UPLOADS, settings.max_upload_bytes)
    try:
        subject = _text_field(upload.fields, "subject", required=True)
        exercise = _text_field(upload.fields, "exercise", required=False)
        if exercise is not None and exercise not in EXERCISES:
            raise HTTPException(422, f"unknown exercise; choose one of {', '.join(EXERCISES)}")
        fps = _fps_field(upload)
        assert subject is not None
        return await run_in_threadpool(
            _record, request.app.state.sessions, settings, user.id, upload, subject, exercise, fps
        )
    finally:
        upload.discard()


@router.get("/sessions")
def list_sessions(user: CurrentUser, db: DB, subject: Annotated[int | None, Query()] = None) -> list[SessionOut]:
    """The sessions the user may see (optionally of one subject), newest first."""
    query = owned(select(CaptureSession), CaptureSession.owner_id, user)
    if subject is not None:
        query = query.where(CaptureSession.subject_id == visible_subject(db, user, subject).id)
    out = []
    for session in db.scalars(query.order_by(CaptureSession.id.desc())):
        subject_row = db.get(Subject, session.subject_id)
        assert subject_row is not None
        out.append(SessionOut.of(session, subject_row, job_of(db, session)))
    return out


@router.get("/sessions/{session_id}")
def get_session(session_id: int, user: CurrentUser, db: DB) -> SessionOut:
    """One session with its subject and job."""
    session = visible_session(db, user, session_id)
    subject = db.get(Subject, session.subject_id)
    assert subject is not None
    return SessionOut.of(session, subject, job_of(db, session))


@router.get("/subjects")
def list_subjects(user: CurrentUser, db: DB) -> list[SubjectOut]:
    """The subjects the user may see."""
    query = owned(select(Subject), Subject.owner_id, user).order_by(Subject.name, Subject.id)
    return [SubjectOut.of(s) for s in db.scalars(query)]


@router.get("/subjects/{subject_id}")
def get_subject(subject_id: int, user: CurrentUser, db: DB) -> SubjectOut:
    """One subject."""
    return SubjectOut.of(visible_subject(db, user, subject_id))


def _finished_file(db: Session, settings: ServeSettings, session: CaptureSession, column: str) -> Path:
    job = job_of(db, session)
    if job is None or job.status != "done":
        state = job.status if job else "an edge session"
        raise HTTPException(409, f"session {session.id} has no such file yet ({state})")
    return settings.data_dir / str(getattr(job, column))


@router.get("/sessions/{session_id}/results")
def results(session_id: int, user: CurrentUser, db: DB, settings: Settings) -> Any:
    """The AlphaPose-format results (a list of person records); 409 while the job is not done."""
    session = visible_session(db, user, session_id)
    if session.kind == "edge":
        return JSONResponse([person for record in session_frames(db, session.id) for person in record["people"]])
    return FileResponse(_finished_file(db, settings, session, "results_path"), media_type="application/json")


@router.get("/sessions/{session_id}/video")
def video(session_id: int, user: CurrentUser, db: DB, settings: Settings) -> FileResponse:
    """The uploaded video (range requests served, so a player can seek)."""
    session = visible_session(db, user, session_id)
    if session.video_path is None:
        raise HTTPException(404, f"session {session_id} has no video (an edge session)")
    return FileResponse(settings.data_dir / session.video_path, media_type="video/mp4")


@router.get("/sessions/{session_id}/analysis")
def analysis(session_id: int, user: CurrentUser, db: DB, settings: Settings) -> Any:
    """Angles per track and frame, repetitions (if an exercise was given) and fall events; 409 until done. An edge
    session's are those of the frames pushed so far."""
    session = visible_session(db, user, session_id)
    if session.kind == "edge":
        try:
            return JSONResponse(edge_analysis(db, settings, session))
        except AkitError as exc:
            raise HTTPException(409, str(exc)) from None
    return FileResponse(_finished_file(db, settings, session, "analysis_path"), media_type="application/json")


@router.post("/sessions/{session_id}/frames")
async def push_frames(session_id: int, request: Request, user: CurrentUser, settings: Settings) -> FramesIn:
    """JSON Lines of ``akit infer`` frame records into an edge session; a frame already stored is skipped. A fall
    in the new frames is recorded (``/alerts``) and sent to the fall webhook."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_PUSH_BYTES:
            raise HTTPException(413, f"push at most {MAX_PUSH_BYTES} bytes at a time")
    records = parse_lines(bytes(body))

    def store() -> FramesIn:
        with request.app.state.sessions() as db:
            session = visible_session(db, user, session_id)
            if session.kind != "edge":
                raise HTTPException(409, f"session {session_id} is an upload; push frames into an edge session")
            stored = store_frames(db, session.id, records)
            if stored:
                notify(settings, db, session, record_falls(db, settings, session, max(f for f, _ in records)))
        return FramesIn(received=len(records), stored=stored, duplicates=len(records) - stored)

    return await run_in_threadpool(store)


@router.get("/sessions/{session_id}/alerts")
def alerts(session_id: int, user: CurrentUser, db: DB) -> list[dict]:
    """The falls found in an edge session's stream so far, in frame order."""
    return session_alerts(db, visible_session(db, user, session_id).id)


@router.get("/sessions/{session_id}/frames")
def get_frames(session_id: int, user: CurrentUser, db: DB, after: Annotated[int, Query()] = -1) -> list[dict]:
    """The frame records pushed into a session (those after frame ``after``), in frame order."""
    return session_frames(db, visible_session(db, user, session_id).id, after)
