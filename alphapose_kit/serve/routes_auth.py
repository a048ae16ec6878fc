"""Signing in: ``POST /api/token`` (OAuth2 password form) gives a bearer token; ``GET /api/me`` says whose it is."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from alphapose_kit.serve.accounts import authenticate, issue_token
from alphapose_kit.serve.deps import DB, CurrentUser, Settings, unauthorized
from alphapose_kit.serve.schemas import TokenOut, UserOut

router = APIRouter(prefix="/api", tags=["accounts"])


@router.post("/token")
def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], db: DB, settings: Settings) -> TokenOut:
    """A bearer token for a user name and password (form fields ``username``, ``password``); 401 if wrong."""
    user = authenticate(db, form.username, form.password)
    if user is None:
        raise unauthorized("wrong user name or password")
    return TokenOut(access_token=issue_token(db, user, settings.token_ttl_s), expires_in=int(settings.token_ttl_s))


@router.get("/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in user."""
    return UserOut.of(user)
