"""``akit serve``: the clinic's and the coach's server (FastAPI, SQLAlchemy 2, Alembic, a pool of worker processes).

Importing this package needs nothing beyond akit itself; the server modules need the ``serve`` extra, which
:func:`require_extra` checks in one line before any of them is imported.
"""

from __future__ import annotations

import importlib

from alphapose_kit.errors import AkitError

# import name -> the distribution that provides it (as the serve extra names it)
EXTRA_MODULES = {
    "fastapi": "fastapi",
    "uvicorn": "uvicorn",
    "sqlalchemy": "sqlalchemy",
    "alembic": "alembic",
    "argon2": "argon2-cffi",
    "python_multipart": "python-multipart",
}
INSTALL_HINT = "pip install 'alphapose-kit[serve]'"


def require_extra() -> None:
    """Fail in one line, naming the install command, when a package of the serve extra is missing."""
    missing = []
    for module, dist in EXTRA_MODULES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(dist)
    if missing:
        raise AkitError(f"akit serve needs the serve extra ({', '.join(missing)} missing): {INSTALL_HINT}")
