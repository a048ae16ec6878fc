"""Accounts: argon2id password hashes and bearer tokens (random, stored as SHA-256, with an expiry).

argon2-cffi's PasswordHasher defaults are RFC 9106's low-memory profile (argon2id, t=3, m=64 MiB, p=4)
[argon2-cffi.readthedocs.io, api]. A token carries 256 random bits, so one SHA-256 is enough to store it: a leaked
table gives no usable token.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from alphapose_kit.errors import AkitError
from alphapose_kit.serve.models import NAME_LENGTH, ROLES, Token, User, now

_hasher = PasswordHasher()
# verified when a user name is unknown, so a wrong name costs the same time as a wrong password
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def check_user_name(name: str) -> str:
    """A user name as stored: stripped, 1..200 printable characters; one line otherwise."""
    name = name.strip()
    if not name or len(name) > NAME_LENGTH or not name.isprintable():
        raise AkitError(f"a user name is 1 to {NAME_LENGTH} printable characters, got {name!r}")
    return name


def create_user(db: Session, name: str, role: str, password: str) -> User:
    """Add a user with an argon2 hash of ``password``; one line for a taken name, a bad role or an empty password."""
    name = check_user_name(name)
    if role not in ROLES:
        raise AkitError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if not password:
        raise AkitError("the password is empty; give it on stdin or in AKIT_PASSWORD")
    if db.scalar(select(User).where(User.name == name)) is not None:
        raise AkitError(f"user {name!r} already exists")
    user = User(name=name, role=role, password_hash=_hasher.hash(password))
    db.add(user)
    db.commit()
    return user


def authenticate(db: Session, name: str, password: str) -> User | None:
    """The user whose name and password these are, else None (in about the same time either way)."""
    user = db.scalar(select(User).where(User.name == name))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(db: Session, user: User, ttl_s: float) -> str:
    """A new bearer token for ``user``, valid ``ttl_s`` seconds; expired tokens are purged on the way."""
    db.execute(delete(Token).where(Token.expires_at < now()))
    token = secrets.token_urlsafe(32)
    db.add(Token(user_id=user.id, token_hash=_digest(token), expires_at=now() + ttl_s))
    db.commit()
    return token


def user_for_token(db: Session, token: str) -> User | None:
    """The user a valid, unexpired token belongs to, else None."""
    row = db.scalar(select(Token).where(Token.token_hash == _digest(token)))
    if row is None or row.expires_at <= now():
        return None
    return db.get(User, row.user_id)
