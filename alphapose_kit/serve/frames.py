"""Frames pushed by edge devices: JSON Lines records of ``akit infer`` (``frame``, ``image_id``, ``people``), stored
once per (session, frame) whatever the number of replays: the insert skips rows that already exist."""

from __future__ import annotations

import json

from fastapi import HTTPException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alphapose_kit.serve.db import upsert_insert
from alphapose_kit.serve.models import Frame, now

BATCH = 500  # rows per INSERT: well under SQLite's limit on bound parameters


def parse_lines(body: bytes) -> list[tuple[int, str]]:
    """(frame index, the record as compact JSON) per line; 422 naming the first bad line."""
    records = []
    for number, line in enumerate(body.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError:
            raise HTTPException(422, f"line {number} is not JSON") from None
        frame = record.get("frame") if isinstance(record, dict) else None
        if not isinstance(frame, int) or isinstance(frame, bool) or frame < 0 or frame > 2**31 - 1:
            raise HTTPException(422, f"line {number} has no frame index (a non-negative integer 'frame')")
        if not isinstance(record.get("people"), list):
            raise HTTPException(422, f"line {number} has no 'people' list")
        records.append((frame, json.dumps(record, separators=(",", ":"), allow_nan=False)))
    return records


def store_frames(db: Session, session_id: int, records: list[tuple[int, str]]) -> int:
    """Insert the records not stored yet (a replay of a frame is skipped); returns how many were new."""
    unique: dict[int, str] = {}
    for frame, data in records:  # a frame twice in one body: the first is kept, as with a replay
        unique.setdefault(frame, data)
    rows = [{"session_id": session_id, "frame_index": f, "data": d, "received_at": now()} for f, d in unique.items()]
    insert = upsert_insert(db)
    stored = 0
    for start in range(0, len(rows), BATCH):
        statement = insert(Frame).values(rows[start : start + BATCH])
        statement = statement.on_conflict_do_nothing(index_elements=["session_id", "frame_index"])
        stored += len(db.execute(statement.returning(Frame.id)).all())  # rows inserted (rowcount: -1 on psycopg)
    db.commit()
    return stored


def count_frames(db: Session, session_id: int) -> int:
    """How many frames a session holds."""
    return int(db.scalar(select(func.count()).select_from(Frame).where(Frame.session_id == session_id)) or 0)


def session_frames(db: Session, session_id: int, after: int = -1) -> list[dict]:
    """The stored records of a session with a frame index above ``after``, in frame order."""
    query = select(Frame.data).where(Frame.session_id == session_id, Frame.frame_index > after)
    return [json.loads(data) for data in db.scalars(query.order_by(Frame.frame_index))]
