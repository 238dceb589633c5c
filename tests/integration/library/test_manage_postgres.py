"""Rename (with undo and recovery), retention and import statements on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from showkeeper.config import Settings
from showkeeper.context import open_context
from showkeeper.db.models import DownloadHistory, RenameBatch
from showkeeper.library.importer import apply_import
from showkeeper.library.naming import set_series_naming
from showkeeper.library.rename import apply_rename, recover_renames, rename_library, undo_rename
from showkeeper.library.retention import run_retention, set_series_retention, unignore
from showkeeper.series.missing import missing_episodes
from tests.integration.library.manage_support import downloaded_series, paths_of, tree
from tests.pg import fresh_pg_database


@pytest.mark.postgres
async def test_library_management_on_postgres(
    settings: Settings, library_dir: Path, tmp_path: Path
) -> None:
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    async with fresh_pg_database() as url:
        pg = settings.model_copy(
            update={"database_url": url, "import_dirs": [incoming], "disk_reserve_gib": 0}
        )
        async with open_context(pg) as ctx:
            db = ctx.db
            await downloaded_series(db, library_dir, "a", "A", 3)
            await downloaded_series(db, library_dir, "b", "B", 2, companions=False)
            results = await rename_library(db, library_dir)
            assert [r["moved"] for r in results] == [9, 2]
            assert (await paths_of(db, "a"))[1] == "A/Season 01/A - S01E01 - Episode 1.mkv"
            await set_series_naming(db, "b", {"series_folder": "{series} [{source_id}]"})
            second = await apply_rename(db, library_dir, "b")
            assert (await paths_of(db, "b"))[2] == "B [b]/Season 01/B - S01E02 - Episode 2.mkv"
            await undo_rename(db, library_dir, second["batch_id"])
            assert "B/Season 01/B - S01E02 - Episode 2.mkv" in tree(library_dir)

            # a journal left "applying" is finished by the recovery
            await set_series_naming(db, "a", {"episode": "{series} {episode:03d}"})
            async with db.write() as s:
                s.add(
                    RenameBatch(
                        series_id=(await s.scalar(select(RenameBatch.series_id).limit(1))),
                        status="applying",
                        old_folder="A",
                        new_folder="A",
                        moves=[["A/Season 01/A - S01E01 - Episode 1.mkv", "A/Season 01/x.mkv"]],
                        episodes=[],
                    )
                )
            assert await recover_renames(db, library_dir) == 1
            assert (library_dir / "A/Season 01/x.mkv").is_file()

            await set_series_retention(db, "b", {"keep_newest": 1})
            [result] = await run_retention(db, library_dir, series_key="b", confirm=True)
            assert result.applied and len(result.delete) == 1
            async with db.session() as s:
                sizes = list(await s.scalars(select(DownloadHistory.size)))
            assert sizes == [100]
            assert await missing_episodes(db, series_key="b") == []
            assert await unignore(db, "b") == 1
            assert len(await missing_episodes(db, series_key="b")) == 1

            # by download date, from the history (MAX(finished_at) per episode)
            async with db.write() as s:
                for n in (1, 2, 3):
                    s.add(
                        DownloadHistory(
                            series_key="a", season=1, episode=n, status="completed",
                            episode_id=(await _episode_id(s, "a", n)),
                            finished_at=datetime.now(UTC) - timedelta(days=n),
                        )
                    )  # fmt: skip
            await set_series_retention(db, "a", {"max_age_days": 2, "by": "downloaded"})
            [aged] = await run_retention(db, library_dir, series_key="a", confirm=True)
            assert [d.label for d in aged.delete] == ["S01E03"]  # 2 days old is kept
            (incoming / "new.mkv").write_bytes(b"n")
            done = await apply_import(
                ctx,
                [{"action": "import_file", "path": str(incoming / "new.mkv"),
                  "series_key": "b", "season": 1, "episode": 1, "mode": "move"}],
            )  # fmt: skip
            assert done["results"][0]["status"] == "imported"
            assert (await paths_of(db, "b"))[1] == "B/Season 01/B - S01E01 - Episode 1.mkv"


async def _episode_id(s: Any, key: str, number: int) -> int:
    from showkeeper.db.models import Episode, Series

    found = await s.scalar(
        select(Episode.id).join(Series).where(Series.key == key, Episode.episode == number)
    )
    assert found is not None
    return int(found)
