"""The revision ids the migration files declare, read without importing Alembic.

Each file in migrations/versions states ``revision`` and ``down_revision`` as literals
(Alembic's template); the heads are the revisions no other one builds on. A file that does
not state them as literals makes :func:`declared_heads` answer None, and the caller asks
Alembic instead.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _declared(path: Path) -> tuple[str, set[str]] | None:
    """(revision, the revisions it builds on) of one migration file, None if not literal."""
    values: dict[str, object] = {}
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            for target in targets:
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    if node.value is None:
                        return None
                    try:
                        values[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        return None
    revision, down = values.get("revision"), values.get("down_revision")
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, set()
    if isinstance(down, str):
        return revision, {down}
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, set(down)
    return None


@cache
def declared_heads() -> frozenset[str] | None:
    """The head revisions of migrations/versions, or None when a file cannot be read so."""
    revisions: set[str] = set()
    built_on: set[str] = set()
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        declared = _declared(path)
        if declared is None:
            return None
        revisions.add(declared[0])
        built_on |= declared[1]
    return frozenset(revisions - built_on) or None
