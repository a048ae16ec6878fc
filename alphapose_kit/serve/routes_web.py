"""The page: ``/`` and its files under ``/static``, shipped in the package (no CDN, works offline)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB = Path(__file__).resolve().parent / "web"
router = APIRouter(include_in_schema=False)
static = StaticFiles(directory=WEB)


@router.get("/")
def index() -> FileResponse:
    """The single page: sign-in, sessions, and a session's video with its skeletons, curves, reps and falls."""
    return FileResponse(WEB / "index.html", media_type="text/html")
