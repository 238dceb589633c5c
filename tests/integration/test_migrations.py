from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from showkeeper.db import Database
from showkeeper.db.migrate import alembic_config, current_revisions, head_revisions, upgrade
from showkeeper.db.models import Base
from showkeeper.db.revisions import declared_heads
from tests.pg import PG_URL, fresh_pg_database


def _alembic_to(connection: Connection, target: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, target)


async def alembic_upgrade(db: Database, target: str = "heads") -> None:
    """Every migration step, through Alembic (upgrade() makes a new database from the models)."""
    async with db.engine.connect() as conn:
        await conn.run_sync(_alembic_to, target)
        await conn.commit()


def schema_of(connection: Connection) -> dict[str, Any]:
    """Everything about the tables that SQLAlchemy can read back, in a comparable form."""
    found = inspect(connection)
    out: dict[str, Any] = {}
    for table in sorted(found.get_table_names()):
        columns = sorted(
            (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
            for c in found.get_columns(table)
        )
        indexes = sorted(
            (
                i["name"],
                tuple(i["column_names"]),
                bool(i["unique"]),
                str({k: str(v) for k, v in (i.get("dialect_options") or {}).items()}),
            )
            for i in found.get_indexes(table)
        )
        foreign = sorted(
            (
                tuple(f["constrained_columns"]),
                f["referred_table"],
                tuple(f["referred_columns"]),
                str(f.get("options")),
            )
            for f in found.get_foreign_keys(table)
        )
        unique = sorted(tuple(u["column_names"]) for u in found.get_unique_constraints(table))
        primary = tuple(found.get_pk_constraint(table)["constrained_columns"])
        out[table] = {
            "columns": columns,
            "indexes": indexes,
            "foreign": foreign,
            "unique": unique,
            "primary": primary,
        }
    return out


async def check_migrations(url: str) -> None:
    db = Database(url)
    try:
        await alembic_upgrade(db)
        assert await upgrade(db) == head_revisions()  # at the heads: nothing to do
        assert await current_revisions(db) == head_revisions()
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
            assert {
                "series",
                "episodes",
                "download_queue",
                "download_history",
                "system_settings",
                "users",
                "api_keys",
            } <= tables
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
                )
            )
        assert diff == [], f"models and migrations disagree: {diff}"
        await check_active_queue_row_is_unique(db)
    finally:
        await db.dispose()


async def check_active_queue_row_is_unique(db: Database) -> None:
    async with db.write() as s:
        await s.execute(
            text(
                "INSERT INTO series (key, folder, name, source_kind, monitored, loading_status, options, source_state, created_at, updated_at) VALUES ('k', 'K', 'K', 'local', true, 'completed', '{}', '{}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
        sid = (await s.execute(text("SELECT id FROM series"))).scalar_one()
        await s.execute(
            text(
                f"INSERT INTO episodes (series_id, season, episode, candidates, at_source, monitored, is_downloaded, created_at, updated_at) VALUES ({sid}, 1, 1, '[]', true, true, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )
    insert = text(
        "INSERT INTO download_queue (episode_id, status, priority, attempts, max_attempts, downloaded_bytes, created_at, updated_at) SELECT id, :status, 0, 0, 5, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM episodes"
    )
    async with db.write() as s:
        await s.execute(insert, {"status": "completed"})
        await s.execute(insert, {"status": "queued"})
    with pytest.raises(IntegrityError):
        async with db.write() as s:
            await s.execute(insert, {"status": "downloading"})
    async with db.write() as s:
        await s.execute(text("UPDATE download_queue SET status = 'failed' WHERE status = 'queued'"))
        await s.execute(insert, {"status": "queued"})


async def test_migrations_on_empty_sqlite_file(tmp_path: Path) -> None:
    await check_migrations(f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}")


async def check_new_database_is_what_the_migrations_make(by_steps: str, new: str) -> None:
    """upgrade() makes a new database from the models in one go: it must be the very schema
    every migration step makes, and stamped at the heads."""
    stepped, made = Database(by_steps), Database(new)
    try:
        await alembic_upgrade(stepped)
        assert await upgrade(made) == head_revisions()
        assert await current_revisions(made) == head_revisions()
        assert await upgrade(made) == head_revisions()  # idempotent
        async with stepped.engine.connect() as a, made.engine.connect() as b:
            want, got = await a.run_sync(schema_of), await b.run_sync(schema_of)
        assert set(got) == set(want)
        for table in want:
            assert got[table] == want[table], table
        await check_active_queue_row_is_unique(made)
    finally:
        await stepped.dispose()
        await made.dispose()


async def test_a_new_sqlite_database_is_the_migrations_schema(tmp_path: Path) -> None:
    await check_new_database_is_what_the_migrations_make(
        f"sqlite+aiosqlite:///{tmp_path / 'steps.db'}", f"sqlite+aiosqlite:///{tmp_path / 'new.db'}"
    )


@pytest.mark.postgres
async def test_a_new_postgres_database_is_the_migrations_schema() -> None:
    assert PG_URL
    async with fresh_pg_database() as steps, fresh_pg_database() as new:
        await check_new_database_is_what_the_migrations_make(steps, new)


async def test_a_database_with_tables_but_no_version_goes_through_alembic(
    tmp_path: Path,
) -> None:
    """Only a database without any table is made from the models: one that has tables but
    no alembic_version (made by something else) is left to Alembic, which refuses it."""
    from showkeeper.db import DatabaseError

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("CREATE TABLE series (id INTEGER PRIMARY KEY)"))
            await conn.commit()
        with pytest.raises(DatabaseError):
            await upgrade(db)
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert "episodes" not in tables  # nothing was created beside the foreign table
    finally:
        await db.dispose()


def test_the_heads_read_from_the_files_are_alembics() -> None:
    # upgrade() trusts them to skip Alembic when the database is at its heads
    assert declared_heads() == head_revisions()


async def test_a_database_behind_the_heads_is_migrated(tmp_path: Path) -> None:
    from alembic import command

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:

        def to_first(connection: Connection) -> None:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "0001")

        async with db.engine.connect() as conn:
            await conn.run_sync(to_first)
            await conn.commit()
        assert await current_revisions(db) == {"0001"}
        assert await upgrade(db) == head_revisions()
        assert await current_revisions(db) == head_revisions()
    finally:
        await db.dispose()


async def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'p.db'}")
    try:
        async with db.session() as s:
            assert (await s.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
            assert (await s.execute(text("PRAGMA busy_timeout"))).scalar() >= 5000
            assert (await s.execute(text("PRAGMA foreign_keys"))).scalar() == 1
    finally:
        await db.dispose()


async def test_concurrent_writers_wait_instead_of_failing(tmp_path: Path) -> None:
    import asyncio

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    await upgrade(db)

    async def writer(other: Database, n: int) -> None:
        for i in range(20):
            async with other.write() as s:
                value = {"n": n, "i": i}
                await s.execute(
                    text(
                        "INSERT INTO system_settings (key, value, updated_at) VALUES (:k, :v, CURRENT_TIMESTAMP)"
                    ),
                    {"k": f"w{n}-{i}", "v": str(value).replace("'", '"')},
                )
                await s.execute(text("SELECT count(*) FROM system_settings"))

    dbs = [Database(db.url) for _ in range(4)]
    try:
        await asyncio.gather(*(writer(other, n) for n, other in enumerate(dbs)))
        async with db.session() as s:
            assert (await s.execute(text("SELECT count(*) FROM system_settings"))).scalar() == 80
    finally:
        for other in dbs:
            await other.dispose()
        await db.dispose()


@pytest.mark.postgres
async def test_migrations_on_postgres() -> None:
    assert PG_URL
    async with fresh_pg_database() as url:
        await check_migrations(url)


async def check_migrating_in_a_child(url: str) -> None:
    db = Database(url)
    try:
        await alembic_upgrade(db, "0001")  # behind the heads: the child runs Alembic
        assert await upgrade(db, in_child=True) == head_revisions()
        assert await current_revisions(db) == head_revisions()
        assert await upgrade(db, in_child=True) == head_revisions()  # at the heads: no child
    finally:
        await db.dispose()


async def test_a_database_behind_is_migrated_by_a_child_process(tmp_path: Path) -> None:
    await check_migrating_in_a_child(f"sqlite+aiosqlite:///{tmp_path / 'child.db'}")


async def test_a_failed_migration_in_the_child_is_one_line(tmp_path: Path) -> None:
    from showkeeper.db import DatabaseError

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not an SQLite database, whatever its name says" * 100)
    db = Database(f"sqlite+aiosqlite:///{broken}")
    try:
        with pytest.raises(DatabaseError) as failed:
            await upgrade(db, in_child=True)
    finally:
        await db.dispose()
    assert "not a database" in str(failed.value)
    assert "\n" not in str(failed.value)
    assert broken.read_bytes().startswith(b"this is not an SQLite database")  # nothing lost


@pytest.mark.postgres
async def test_migrations_in_a_child_process_on_postgres() -> None:
    assert PG_URL
    async with fresh_pg_database() as url:
        await check_migrating_in_a_child(url)
