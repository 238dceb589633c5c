import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from showkeeper.automation.jobs import Jobs
from showkeeper.automation.schedule import next_daily
from showkeeper.automation.scheduler import Scheduler
from showkeeper.errors import ConflictError
from tests.scheduler_clock import FakeClock

MON_0200 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday


class Recorder:
    """Fake jobs: each records the (fake) time it ran at."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.calls: dict[str, list[datetime]] = {"rescan": [], "refresh": [], "auto_download": []}
        self.fail: set[str] = set()

    def job(self, name: str) -> Any:
        async def run(ctx: Any) -> int:
            self.calls[name].append(self.clock.now())
            if name in self.fail:
                raise RuntimeError(f"{name} broke")
            return 0

        return run

    def jobs(self) -> Jobs:
        return Jobs(
            rescan=self.job("rescan"),
            refresh=self.job("refresh"),
            auto_download=self.job("auto_download"),
        )


def make(ctx: Any, clock: FakeClock, rec: Recorder, **settings: Any) -> Scheduler:
    ctx.settings = ctx.settings.model_copy(update={"scheduler_time": "03:00", **settings})
    return Scheduler(ctx, jobs=rec.jobs(), clock=clock)


async def run_due(s: Scheduler) -> None:
    await asyncio.gather(*await s.run_due())


def test_next_daily_weekdays_and_time_zone() -> None:
    assert next_daily(MON_0200, at="03:00", weekdays=["mon"], tz="UTC") == MON_0200.replace(hour=3)
    assert next_daily(
        MON_0200.replace(hour=3), at="03:00", weekdays=["mon"], tz="UTC"
    ) == MON_0200.replace(hour=3) + timedelta(days=7)
    assert next_daily(MON_0200, at="03:00", weekdays=["wed", "sat"], tz="UTC").weekday() == 2
    berlin = next_daily(MON_0200, at="03:00", weekdays=[], tz="Europe/Berlin")
    assert berlin == datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 03:00 CET = 02:00 UTC, next day


async def test_missed_rescan_is_caught_up_after_a_restart(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    first = make(ctx, clock, rec)
    await first.load()
    assert first.states["rescan"].next_run == MON_0200.replace(hour=3)
    await run_due(first)
    assert rec.calls["rescan"] == [] and len(rec.calls["refresh"]) == 1  # first refresh at once
    # the server is down at 03:00 and starts again at 04:10
    clock.advance(hours=2, minutes=10)
    second = make(ctx, clock, rec)
    await second.load()
    await run_due(second)
    assert rec.calls["rescan"] == [clock.now()]
    assert second.states["rescan"].last_status == "ok"
    assert second.states["rescan"].next_run == MON_0200.replace(hour=3) + timedelta(days=1)
    # persisted: a third start sees the run and plans tomorrow
    third = make(ctx, clock, rec)
    await third.load()
    assert third.states["rescan"].last_run == clock.now()
    assert third.states["rescan"].next_run == MON_0200.replace(hour=3) + timedelta(days=1)


async def test_a_run_missed_beyond_the_grace_window_is_skipped(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    await make(ctx, clock, rec, scheduler_catchup_grace_min=60).load()
    clock.advance(hours=5)  # two hours late, grace is one
    later = make(ctx, clock, rec, scheduler_catchup_grace_min=60)
    await later.load()
    await run_due(later)
    assert rec.calls["rescan"] == []
    assert later.states["rescan"].next_run == MON_0200.replace(hour=3) + timedelta(days=1)


async def test_auto_download_follows_a_rescan_with_a_cooldown(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    s = make(ctx, clock, rec)
    await s.load()
    await run_due(s)  # the first refresh, then auto-download at once
    await run_due(s)
    assert rec.calls["auto_download"] == [MON_0200]
    clock.advance(minutes=1)
    await s.trigger("rescan")
    await run_due(s)
    assert len(rec.calls["auto_download"]) == 1  # inside the 5-minute cooldown
    assert s.states["auto_download"].next_run == MON_0200 + timedelta(minutes=5)
    clock.advance(minutes=2)
    await s.trigger("rescan")  # a second request inside the cooldown does not add a run
    clock.advance(minutes=1)
    await run_due(s)
    assert len(rec.calls["auto_download"]) == 1  # 02:04
    clock.advance(minutes=1)
    await run_due(s)
    assert rec.calls["auto_download"] == [MON_0200, MON_0200 + timedelta(minutes=5)]
    await run_due(s)
    assert len(rec.calls["auto_download"]) == 2


async def test_auto_download_off_and_failed_jobs(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    rec.fail.add("rescan")
    s = make(ctx, clock, rec, auto_download=False)
    await s.load()
    await run_due(s)
    await s.trigger("rescan")
    await run_due(s)
    assert rec.calls["auto_download"] == []
    assert (
        s.states["rescan"].last_status == "failed"
        and s.states["rescan"].last_error == "rescan broke"
    )


async def test_refresh_runs_on_its_interval(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    s = make(ctx, clock, rec, source_refresh_interval_min=30, auto_download=False)
    await s.load()
    await run_due(s)
    clock.advance(minutes=29)
    await run_due(s)
    clock.advance(minutes=1)
    await run_due(s)
    assert rec.calls["refresh"] == [MON_0200, MON_0200 + timedelta(minutes=30)]


async def test_manual_trigger_refuses_a_second_concurrent_run(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    gate = asyncio.Event()

    async def slow(_ctx: Any) -> None:
        await gate.wait()

    s = Scheduler(ctx, jobs=Jobs(rescan=slow, refresh=slow, auto_download=slow), clock=clock)
    await s.load()
    task = s.trigger("rescan")
    with pytest.raises(ConflictError):
        s.trigger("rescan")
    gate.set()
    await task
    assert not s.running("rescan")


async def test_a_failing_job_is_recorded_not_raised(ctx: Any) -> None:
    async def absent(_ctx: Any) -> None:
        from showkeeper import no_such_feature  # type: ignore[attr-defined]  # noqa: F401

    clock = FakeClock(MON_0200)
    s = Scheduler(ctx, jobs=Jobs(rescan=absent), clock=clock)
    await s.load()
    await s.trigger("rescan")
    assert s.states["rescan"].last_status == "failed"
    assert "no_such_feature" in (s.states["rescan"].last_error or "")


async def test_the_service_loop_runs_jobs_when_the_clock_reaches_them(ctx: Any) -> None:
    clock = FakeClock(MON_0200)
    rec = Recorder(clock)
    s = make(ctx, clock, rec, auto_download=False)
    await s.start()
    try:
        for _ in range(100):
            await asyncio.sleep(0)
        assert len(rec.calls["refresh"]) == 1 and rec.calls["rescan"] == []
        clock.advance(hours=1)  # 03:00
        for _ in range(200):
            if rec.calls["rescan"]:
                break
            await asyncio.sleep(0.005)
        assert rec.calls["rescan"] == [MON_0200 + timedelta(hours=1)]
    finally:
        await s.stop()
