from pathlib import Path

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


async def check_migrations(url: str) -> None:
    db = Database(url)
    try:
        assert await upgrade(db) == head_revisions()
        assert await upgrade(db) == head_revisions()  # idempotent
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
        assert await upgrade(db, in_child=True) == head_revisions()
        assert await current_revisions(db) == head_revisions()
        assert await upgrade(db, in_child=True) == head_revisions()  # at the heads: no child
    finally:
        await db.dispose()


async def test_a_new_database_is_migrated_by_a_child_process(tmp_path: Path) -> None:
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
