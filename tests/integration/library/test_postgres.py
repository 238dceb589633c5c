"""The same reconcile statements (upserts, ON CONFLICT) on a real PostgreSQL."""

from pathlib import Path

import pytest

from showkeeper.config import Settings
from showkeeper.context import open_context
from showkeeper.library.service import library_issues, run_scan
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series, episodes, on_disk
from tests.pg import fresh_pg_database
from tests.unit.library.trees import age, make_tree


@pytest.mark.postgres
async def test_scan_on_postgres(settings: Settings, library_dir: Path) -> None:
    make_tree(
        library_dir,
        [
            "Show/Season 01/Show S01E01.mkv",
            "Show/Season 01/Show S01E05.mkv",
            "Local/Local 1x01.mkv",
            "Nobody/x.mkv",
        ],
    )
    (library_dir / "Local/key").write_text("local\n")
    (library_dir / "Local/data").write_text('{"episodeDict": {"1": [1, 2]}}')
    age(library_dir)
    async with (
        fresh_pg_database() as url,
        open_context(settings.model_copy(update={"database_url": url})) as ctx,
    ):
        await add_series(ctx.db, "show", "Show", [Ep(1, 1), Ep(1, 2)])
        first = await run_scan(ctx)
        assert first.stats.series_created == 1 and first.stats.unmapped == 1
        assert await on_disk(ctx.db) == {
            ("show", 1, 1): "Show/Season 01/Show S01E01.mkv",
            ("show", 1, 5): "Show/Season 01/Show S01E05.mkv",
            ("local", 1, 1): "Local/Local 1x01.mkv",
        }
        assert (await episodes(ctx.db))[("show", 1, 5)]["at_source"] is False
        again = await run_scan(ctx)
        assert again.stats.folders_read == 0
        (library_dir / "Show/Season 01/Show S01E05.mkv").unlink()
        await run_scan(ctx, series_key="show")
        assert ("show", 1, 5) not in await episodes(ctx.db)
        missing = [(m.series_key, m.episode) for m in await missing_episodes(ctx.db)]
        assert missing == [("local", 2), ("show", 2)]
        assert (await library_issues(ctx.db, library_dir, unmapped=True))[0] == 1
