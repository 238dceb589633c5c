from datetime import date
from pathlib import Path

import pytest

from showkeeper.context import AppContext
from showkeeper.db.models import QueueItem
from showkeeper.errors import NotFoundError
from showkeeper.library.service import run_scan
from showkeeper.series.missing import missing_episodes
from tests.integration.library.helpers import Ep, add_series, episodes
from tests.unit.library.trees import make_tree

TODAY = date(2025, 6, 1)


async def test_missing_is_monitored_aired_known_not_on_disk_not_queued(
    ctx: AppContext, library_dir: Path
) -> None:
    await add_series(
        ctx.db,
        "show",
        "Show",
        [
            Ep(1, 1, date(2025, 1, 1)),  # missing
            Ep(1, 2, date(2025, 7, 1)),  # not aired yet
            Ep(1, 3, date(2025, 1, 1), monitored=False),
            Ep(1, 4, date(2025, 1, 1)),  # queued
            Ep(1, 5, date(2025, 1, 1)),  # failed download: missing again
            Ep(1, 6, date(2025, 1, 1), at_source=False),  # known only from disk
            Ep(1, 7, date(2025, 1, 1)),  # on disk
            Ep(1, 8),  # no air date: the source lists it, so it is out
            Ep(1, 9, TODAY),  # airs today
        ],
    )
    await add_series(ctx.db, "paused", "Paused", [Ep(1, 1, date(2025, 1, 1))], monitored=False)
    await add_series(ctx.db, "other", "Other", [Ep(1, 1, date(2025, 1, 1))])
    make_tree(library_dir, ["Show/Show S01E07.mkv"])
    await run_scan(ctx)
    ids = {k: v["id"] for k, v in (await episodes(ctx.db)).items()}
    async with ctx.db.write() as s:
        s.add(QueueItem(episode_id=ids[("show", 1, 4)], status="queued"))
        s.add(QueueItem(episode_id=ids[("show", 1, 5)], status="failed"))

    missing = await missing_episodes(ctx.db, today=TODAY)
    assert [(m.series_key, m.season, m.episode) for m in missing] == [
        ("other", 1, 1),
        ("show", 1, 1),
        ("show", 1, 5),
        ("show", 1, 8),
        ("show", 1, 9),
    ]
    one = await missing_episodes(ctx.db, series_key="show", today=TODAY)
    assert [m.episode for m in one] == [1, 5, 8, 9]
    assert one[0].as_dict() == {
        "episode_id": ids[("show", 1, 1)],
        "series_key": "show",
        "series_name": "Show",
        "season": 1,
        "episode": 1,
        "title": "Episode 1",
        "air_date": "2025-01-01",
    }
    with pytest.raises(NotFoundError, match="no series with key 'nope'"):
        await missing_episodes(ctx.db, series_key="nope")
