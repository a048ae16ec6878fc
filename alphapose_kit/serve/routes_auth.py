"""Signing in: ``POST /api/token`` (OAuth2 password form) gives a bearer token; ``GET /api/me`` says whose it is."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import OAuth2PasswordRequestForm

from alphapose_kit.serve.accounts import authenticate, issue_token
from alphapose_kit.serve.deps import CSRF_COOKIE, DB, SESSION_COOKIE, CurrentUser, Settings, unauthorized
from alphapose_kit.serve.schemas import TokenOut, UserOut

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB, settings: Settings) -> TokenOut:
    """A bearer token for a user name and password (form fields ``username``, ``password``); 401 if wrong."""
    user = authenticate(db, form.username, form.password)
    if user is None:
        raise unauthorized("wrong user name or password")
    return TokenOut(access_token=issue_token(db, user, settings.token_ttl_s), expires_in=int(settings.token_ttl_s))


@router.post("/login")
def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB, settings: Settings, response: Response
) -> UserOut:
    """The page's sign-in: the token goes into an HTTP-only, SameSite=Strict cookie, with a CSRF cookie beside it."""
    user = authenticate(db, form.username, form.password)
    if user is None:
        raise unauthorized("wrong user name or password")
    age = int(settings.token_ttl_s)
    token = issue_token(db, user, settings.token_ttl_s)
    response.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, samesite="strict", path="/")
    response.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(32), max_age=age, samesite="strict", path="/")
    return UserOut.of(user)


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.of(user)
