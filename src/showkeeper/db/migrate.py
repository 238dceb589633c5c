"""Run the Alembic migrations: at start-up and from `showkeeper db upgrade`.

Later features add revisions whose down_revision is the one they build on; several
heads are fine (we upgrade to "heads").

A database already at the heads is the common case (every start but the first): it is
recognised by reading the revision ids the migration files declare (db/revisions.py) and the
alembic_version table, without importing Alembic, whose modules would stay in memory for the
life of the process (~10 MB of a download command's peak) to do nothing.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from showkeeper.db.engine import Database, DatabaseError, _cause
from showkeeper.db.revisions import MIGRATIONS_DIR, declared_heads

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "current_revisions", "head_revisions", "upgrade"]

_T = TypeVar("_T")

# Any constant works; API and workers starting together take turns on it.
_PG_LOCK_ID = 0x5B0C_EE9E


def alembic_config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revisions() -> set[str]:
    """The heads as Alembic computes them (the reference :func:`declared_heads` must match)."""
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade(connection: Connection) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def _current(connection: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(connection).get_current_heads())


async def upgrade(db: Database, *, in_child: bool = False) -> set[str]:
    """Bring the schema to the newest revisions; returns the revisions now applied.

    ``in_child``: a migration that is due runs in a child interpreter (``python -m
    showkeeper.db.migrate``, the URL on its stdin), so a long-lived process (the server, a
    download command) never holds Alembic's modules; it costs an interpreter start (~0.4 s)
    on the first start only. Tests and one-shot commands migrate in-process.

    Raises:
        DatabaseError: the database cannot be reached or a migration failed.
    """
    try:
        heads = declared_heads()
        stamped = await _stamped(db) if heads is not None else None
        if stamped is not None and frozenset(stamped) == heads:
            return stamped
        if stamped is None and heads is not None:  # perhaps a new, empty database
            created = await _locked(db, lambda conn: _create_fresh(conn, heads))
            if created:
                return set(heads)
        if in_child:
            return await _upgrade_in_child(db)
        await _locked(db, _upgrade)
        async with db.engine.connect() as conn:
            return await conn.run_sync(_current)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise DatabaseError(f"cannot migrate database {db.safe_url}: {_cause(exc)}") from None


async def _locked(db: Database, work: Callable[[Connection], _T]) -> _T:
    """``work`` in one transaction that no other process migrating the database runs beside
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock)."""
    if db.is_sqlite:
        async with db.engine.execution_options(showkeeper_immediate=True).connect() as conn:
            result = await conn.run_sync(work)
            await conn.commit()
            return result
    async with db.engine.connect() as conn:
        await conn.execute(text(f"SELECT pg_advisory_lock({_PG_LOCK_ID})"))
        await conn.commit()
        try:
            result = await conn.run_sync(work)
            await conn.commit()
            return result
        finally:
            await conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})"))
            await conn.commit()


def _create_fresh(connection: Connection, heads: frozenset[str]) -> bool:
    """On a database with no table at all: the schema as the models declare it, stamped at
    the heads; False (nothing done) on any other database.

    The models and the migrations describe the same schema (tests/integration/
    test_migrations.py compares a database made each way, on SQLite and PostgreSQL), and no
    migration moves data, so a new database need not replay every step: this takes a few
    milliseconds and never loads Alembic. Every later change still goes through Alembic.
    """
    from showkeeper.db.models import Base

    if inspect(connection).get_table_names():
        return False  # not new (another process may have just made it): Alembic decides
    Base.metadata.create_all(connection)
    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), nullable=False),
        PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
    )
    version.create(connection)
    connection.execute(version.insert(), [{"version_num": head} for head in sorted(heads)])
    return True


async def current_revisions(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def _stamped(db: Database) -> set[str] | None:
    """The revisions in alembic_version, or None when there is no such table yet."""
    try:
        async with db.engine.connect() as conn:
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return {str(row[0]) for row in rows}
    except (OperationalError, DBAPIError):
        return None  # a new database: Alembic creates the table


async def _upgrade_in_child(db: Database) -> set[str]:
    """:func:`upgrade` in ``python -I -m showkeeper.db.migrate``; in-process if it cannot start."""
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-I",
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError:
        return await upgrade(db)
    try:
        out, err = await proc.communicate(db.url.encode())
    except BaseException:  # cancelled: the child must not outlive us
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        raise DatabaseError(
            lines[-1] if lines else f"the migration process exited with {proc.returncode}"
        )
    return set(json.loads(out))


async def _migrate_url(url: str) -> list[str]:
    db = Database(url)
    try:
        await db.check()
        return sorted(await upgrade(db))
    finally:
        await db.dispose()


def _child_main() -> int:
    """The child of :func:`_upgrade_in_child`: the revisions as JSON, or one line and 1."""
    try:
        revisions = asyncio.run(_migrate_url(sys.stdin.read()))
    except DatabaseError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps(revisions))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
