"""Run the Alembic migrations: at start-up and from `showkeeper db upgrade`.

Later features add revisions whose down_revision is the one they build on; several
heads are fine (we upgrade to "heads").
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError

from showkeeper.db.engine import Database, DatabaseError, _cause

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; API and workers starting together take turns on it.
_PG_LOCK_ID = 0x5B0C_EE9E


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revisions() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "heads")


def _current(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


async def upgrade(db: Database) -> set[str]:
    """Bring the schema to the newest revisions; returns the revisions now applied.

    Raises:
        DatabaseError: the database cannot be reached or a migration failed.
    """
    try:
        if db.is_sqlite:
            async with db.engine.execution_options(showkeeper_immediate=True).connect() as conn:
                await conn.run_sync(_upgrade)
                await conn.commit()
        else:
            async with db.engine.connect() as conn:
                await conn.execute(text(f"SELECT pg_advisory_lock({_PG_LOCK_ID})"))
                await conn.commit()
                try:
                    await conn.run_sync(_upgrade)
                    await conn.commit()
                finally:
                    await conn.execute(text(f"SELECT pg_advisory_unlock({_PG_LOCK_ID})"))
                    await conn.commit()
        async with db.engine.connect() as conn:
            return await conn.run_sync(_current)
    except (OperationalError, DBAPIError, OSError) as exc:
        raise DatabaseError(f"cannot migrate database {db.safe_url}: {_cause(exc)}") from None


async def current_revisions(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)
