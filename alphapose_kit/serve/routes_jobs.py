"""Job status: ``GET /api/jobs/{id}`` now, ``GET /api/jobs/{id}/events`` as a Server-Sent Events stream until it ends.

The stream sends an ``event: progress`` with the job as JSON whenever it changes, and one last event named after
the final status (``done`` / ``failed``); a comment every 15 s keeps proxies from closing it (as sse-starlette does).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from alphapose_kit.serve.access import visible_job
from alphapose_kit.serve.deps import DB, CurrentUser
from alphapose_kit.serve.models import User
from alphapose_kit.serve.schemas import JobOut

router = APIRouter(prefix="/api/jobs", tags=["jobs"])
FINAL = ("done", "failed")
POLL_S = 0.25
PING_S = 15.0


@router.get("/{job_id}")
def job_status(job_id: int, user: CurrentUser, db: DB) -> JobOut:
    """Status (queued, running, done, failed), progress 0..1, frames done and the one-line error of a failure."""
    return JobOut.of(visible_job(db, user, job_id))


def _read(request: Request, user: User, job_id: int) -> JobOut:
    with request.app.state.sessions() as db:
        return JobOut.of(visible_job(db, user, job_id))


def sse(event: str, data: str, event_id: int) -> str:
    """One Server-Sent Event [html.spec.whatwg.org server-sent-events]: data is one JSON line."""
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n"


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def job_events(job_id: int, request: Request, user: CurrentUser) -> StreamingResponse:
    """Progress as Server-Sent Events, ending with the final status."""
    first = await run_in_threadpool(_read, request, user, job_id)  # 404 before the stream starts

    async def stream() -> AsyncIterator[str]:
        job, last, sent, pinged = first, None, 0, time.monotonic()
        while True:
            if job != last:
                sent += 1
                yield sse("progress", job.model_dump_json(), sent)
                last = job
            if job.status in FINAL:
                yield sse(job.status, job.model_dump_json(), sent + 1)
                return
            if time.monotonic() - pinged > PING_S:
                pinged = time.monotonic()
                yield ": ping\n\n"
            if await request.is_disconnected():
                return
            await asyncio.sleep(POLL_S)
            job = await run_in_threadpool(_read, request, user, job_id)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
