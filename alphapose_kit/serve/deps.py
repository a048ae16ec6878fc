"""FastAPI dependencies: a database session per request, and the signed-in user from the bearer token (401 if none)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from alphapose_kit.serve.accounts import user_for_token
from alphapose_kit.serve.models import User
from alphapose_kit.serve.settings import ServeSettings

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/token", auto_error=False)
SESSION_COOKIE = "akit_session"  # HTTP-only: the page's scripts never see the token
CSRF_COOKIE = "akit_csrf"  # readable by the page, which echoes it in CSRF_HEADER
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def get_db(request: Request) -> Iterator[Session]:
    """One database session for the request, closed after it."""
    with request.app.state.sessions() as db:
        yield db


def get_settings(request: Request) -> ServeSettings:
    """The server's settings."""
    return request.app.state.settings


def unauthorized(detail: str) -> HTTPException:
    """401 with the header OAuth2 bearer clients expect [fastapi.tiangolo.com tutorial/security]."""
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def current_user(request: Request, token: Annotated[str | None, Depends(oauth2_scheme)]) -> User:
    """The user of a valid bearer token, or of the page's session cookie (then a state-changing request must also
    send the CSRF token: double-submit); 401 for a missing, unknown or expired one. Its own short database session:
    a request streaming a body holds no connection meanwhile, and none waits on a second one while holding a first."""
    if not token:
        token = request.cookies.get(SESSION_COOKIE)
        if token and request.method not in SAFE_METHODS:
            sent, expected = request.headers.get(CSRF_HEADER, ""), request.cookies.get(CSRF_COOKIE, "")
            if not expected or not secrets.compare_digest(sent, expected):
                raise HTTPException(403, f"missing or wrong {CSRF_HEADER} header (the page sends it)")
    if not token:
        raise unauthorized("not signed in: send Authorization: Bearer TOKEN (POST /api/token)")
    with request.app.state.sessions() as db:
        user = user_for_token(db, token)
    if user is None:
        raise unauthorized("the token is invalid or expired: get a new one (POST /api/token)")
    return user


DB = Annotated[Session, Depends(get_db)]
CurrentUser = Annotated[User, Depends(current_user)]
Settings = Annotated[ServeSettings, Depends(get_settings)]
