"""Every public function and class of the package is used by the package or the repository's scripts: code only the
tests call belongs in tests/ (issue 14, 4.7). Registered builders and CLI commands count as used (their decorator is
the use)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from tests.paths import REPO

PACKAGE = REPO / "alphapose_kit"
#: Known test-only code in other developers' modules, to be moved to tests/ by them (issue 14 report); remove an
#: entry when its code moves.
PENDING = {
    "alphapose_kit/detectors/nets/darknet.py": {"save_darknet_weights"},
    "alphapose_kit/engine/run_files.py": {"read_metrics"},
    "alphapose_kit/models/hrnet.py": {"hrnet_w32", "hrnet_w48"},
    "alphapose_kit/serve/frames.py": {"count_frames"},
    "alphapose_kit/serve/migrate.py": {"current_revision"},
}
# Alembic calls each migration's upgrade() and downgrade() by name: a migration's own API, not test-only code
MIGRATIONS = "alphapose_kit/serve/migrations/versions/"


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted([*PACKAGE.rglob("*.py"), *(REPO / "scripts").rglob("*.py")]):
        yield path.relative_to(REPO).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _referenced(tree: ast.Module) -> set[str]:
    """Names a module's code uses: loads, attributes, imported names and identifier-like strings (lazy tables)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif isinstance(node, ast.ImportFrom):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"\w+", node.value):
            names.add(node.value)
    return names


def _unused() -> dict[str, set[str]]:
    """Public top-level functions and classes no other module (bar package ``__init__`` re-exports) and no other
    code of their own module refers to."""
    modules = list(_modules())
    used_in = {name: _referenced(tree) for name, tree in modules if not name.endswith("__init__.py")}
    root_api = _referenced(ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8")))
    unused: dict[str, set[str]] = {}
    for name, tree in modules:
        if not name.startswith("alphapose_kit/") or name.startswith(MIGRATIONS):
            continue
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef | ast.ClassDef) or node.name.startswith("_"):
                continue
            if any(not isinstance(d, ast.Name) or d.id != "dataclass" for d in node.decorator_list):
                continue  # registered (builders, codecs) or a CLI command
            inner = {id(n) for n in ast.walk(node)}
            outside = [n for n in ast.walk(tree) if id(n) not in inner and isinstance(n, ast.Name | ast.Attribute)]
            own = any(node.name in (getattr(n, "id", None), getattr(n, "attr", None)) for n in outside)
            others = any(node.name in refs for other, refs in used_in.items() if other != name)
            if not (own or others or node.name in root_api):
                unused.setdefault(name, set()).add(node.name)
    return unused


def test_no_package_code_is_used_only_by_the_tests() -> None:
    assert _unused() == PENDING
