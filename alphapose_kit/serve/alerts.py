"""Falls in edge streams: after each push the recent frames are analysed; a fall not seen before is recorded (once
per session, track and frame) and, when ``--fall-webhook`` is set, POSTed there as JSON from a background thread."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from alphapose_kit.errors import AkitError
from alphapose_kit.serve.analysis import session_analysis
from alphapose_kit.serve.db import upsert_insert
from alphapose_kit.serve.frames import session_frames
from alphapose_kit.serve.models import Alert, CaptureSession, Subject, now
from alphapose_kit.serve.settings import ServeSettings

log = logging.getLogger("akit.serve")
WINDOW_S = 30.0  # seconds of frames analysed after a push: a fall and the stillness after it fit many times
WEBHOOK_TIMEOUT_S = 5.0


def edge_analysis(db: Session, settings: ServeSettings, session: CaptureSession, after: int = -1) -> dict[str, Any]:
    """The analysis of an edge session's frames after frame ``after`` (AkitError without a frame rate)."""
    records = [person for record in session_frames(db, session.id, after) for person in record["people"]]
    folder = settings.data_dir / "sessions" / str(session.id)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".json", delete=False) as handle:
        json.dump(records, handle)
    try:
        return session_analysis(Path(handle.name), session.exercise, session.fps)
    finally:
        Path(handle.name).unlink()


def record_falls(db: Session, settings: ServeSettings, session: CaptureSession, last_frame: int) -> list[dict]:
    """Falls in the last WINDOW_S seconds of an edge session not recorded before; they are recorded now (none
    without a frame rate, or when the frames cannot be analysed: that is logged)."""
    if not session.fps:
        return []
    try:
        falls = edge_analysis(db, settings, session, last_frame - round(WINDOW_S * session.fps))["falls"]
    except AkitError as exc:  # frames that are not poses (no hips, say): stored, but nothing to look for
        log.warning("session %d: no fall check (%s)", session.id, exc)
        return []
    new = []
    for fall in falls:
        values = {"session_id": session.id, "track_id": fall["track_id"], "frame": fall["frame"],
                  "data": json.dumps(fall), "created_at": now()}  # fmt: skip
        statement = upsert_insert(db)(Alert).values(values)
        statement = statement.on_conflict_do_nothing(index_elements=["session_id", "track_id", "frame"])
        if db.execute(statement.returning(Alert.id)).first() is not None:
            new.append(fall)
    db.commit()
    return new


def session_alerts(db: Session, session_id: int) -> list[dict]:
    """The falls recorded for a session, in order."""
    query = select(Alert.data).where(Alert.session_id == session_id).order_by(Alert.frame, Alert.track_id)
    return [json.loads(data) for data in db.scalars(query)]


def notify(settings: ServeSettings, db: Session, session: CaptureSession, falls: list[dict]) -> None:
    """POST each new fall to the webhook (if one is set), without holding up the push that found it."""
    if not settings.fall_webhook or not falls:
        return
    subject = db.get(Subject, session.subject_id)
    payloads = [
        {"event": "fall", "session_id": session.id, "subject": subject.name if subject else None, **fall}
        for fall in falls
    ]
    threading.Thread(target=_post_all, args=(settings.fall_webhook, payloads), daemon=True).start()


def _post_all(url: str, payloads: list[dict]) -> None:
    for payload in payloads:
        request = urllib.request.Request(
            url, data=json.dumps(payload).encode(), method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_S):
                pass
        except OSError as exc:
            log.warning("fall webhook %s failed: %s", url, exc)
