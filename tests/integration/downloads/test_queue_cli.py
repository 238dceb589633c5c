"""`showkeeper queue ...` through CliRunner on a real SQLite file."""

from __future__ import annotations

import asyncio
import json

import pytest
from typer.testing import CliRunner

from showkeeper.cli import app as cli
from showkeeper.config import load_settings
from showkeeper.context import open_context
from showkeeper.downloads import claim, finish
from tests.integration.downloads.queue_support import add_series

runner = CliRunner()


@pytest.fixture
def data(settings):
    return settings.data_dir


def run(data, *args: str):
    return runner.invoke(cli, ["--data-dir", str(data), *args])


def with_db(data, work):
    async def go():
        async with open_context(load_settings(env_file=None, data_dir=data)) as ctx:
            return await work(ctx.db)

    return asyncio.run(go())


def seed(data, count: int = 3) -> list[int]:
    async def work(db):
        return await add_series(
            db, "cli", [(1, n, [{"url": f"http://m.example/{n}.mp4"}]) for n in range(1, count + 1)]
        )

    return with_db(data, work)


def listing(data) -> dict:
    result = run(data, "queue", "ls", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_add_ls_rm(data) -> None:
    ids = seed(data)
    added = run(data, "queue", "add", str(ids[0]), str(ids[1]), str(ids[0]), "--priority", "3")
    assert added.exit_code == 0, added.output
    assert "queued 2 episode(s); 0 already queued" in added.output
    series = run(data, "queue", "add", "--series", "cli")
    assert "queued 1 episode(s)" in series.output
    shown = run(data, "queue", "ls")
    assert shown.exit_code == 0
    assert "queue is running: 3 queued" in shown.output and "cli S01E01" in shown.output
    view = listing(data)
    assert [i["episode_id"] for i in view["queued"]["items"]] == [ids[0], ids[1], ids[2]]
    item = view["queued"]["items"][0]["id"]
    assert "cancelled" in run(data, "queue", "rm", str(item)).output
    assert "removed" in run(data, "queue", "rm", str(item)).output
    assert listing(data)["counts"]["queued"] == 2


def test_bad_input_is_one_line_and_exit_2(data) -> None:
    """2: a usage error, or something named that does not exist (showkeeper --help says so)."""
    seed(data, 1)
    unknown = run(data, "queue", "add", "424242")
    assert unknown.exit_code == 2
    assert "no episode with id 424242; nothing was queued" in unknown.output
    assert "Traceback" not in unknown.output
    neither = run(data, "queue", "add")
    assert neither.exit_code == 2 and "give episode ids or --series KEY" in neither.output
    missing = run(data, "queue", "rm", "99")
    assert missing.exit_code == 2 and "queue item 99 not found" in missing.output
    series = run(data, "download", "--series", "nope")
    assert series.exit_code == 2 and "no series 'nope'" in series.output
    assert listing(data)["counts"]["queued"] == 0


def test_pause_resume_retry_clear(data) -> None:
    ids = seed(data)
    run(data, "queue", "add", *map(str, ids))

    async def finish_two(db):
        claims = await claim.claim_batch(db, owner="w", limit=3)
        await finish.complete(db, claims[0].id, owner="w", file_path="a.mp4", size=1)
        await finish.fail(db, claims[1].id, owner="w", error="gone", permanent=True)

    with_db(data, finish_two)
    assert "queue is paused" in run(data, "queue", "pause").output
    assert listing(data)["state"] == "paused"
    assert "queue is running" in run(data, "queue", "resume").output
    assert "queue is stopped" in run(data, "queue", "stop").output
    assert "queue is running" in run(data, "queue", "start").output
    assert "retrying 1 item(s)" in run(data, "queue", "retry").output
    assert "removed 1 finished item(s)" in run(data, "queue", "clear").output
    counts = listing(data)["counts"]
    assert counts == {"queued": 1, "downloading": 1, "completed": 0, "failed": 0, "cancelled": 0}
