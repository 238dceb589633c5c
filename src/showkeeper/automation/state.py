"""Each job's last and next run, persisted in system_settings ("scheduler.<job>")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from showkeeper.db import Database
from showkeeper.db.models import SystemSetting

PREFIX = "scheduler."


@dataclass
class JobState:
    last_run: datetime | None = None
    last_status: str | None = None  # ok | failed
    last_error: str | None = None
    last_duration_s: float | None = None
    next_run: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "last_run": self.last_run.isoformat() if self.last_run else None,
            "last_status": self.last_status,
            "last_error": self.last_error,
            "last_duration_s": self.last_duration_s,
            "next_run": self.next_run.isoformat() if self.next_run else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobState:
        def when(key: str) -> datetime | None:
            value = data.get(key)
            try:
                return datetime.fromisoformat(value) if isinstance(value, str) else None
            except ValueError:
                return None

        duration = data.get("last_duration_s")
        return cls(
            last_run=when("last_run"),
            last_status=data.get("last_status"),
            last_error=data.get("last_error"),
            last_duration_s=float(duration) if isinstance(duration, int | float) else None,
            next_run=when("next_run"),
        )


async def load_states(db: Database, jobs: list[str]) -> dict[str, JobState]:
    keys = [PREFIX + job for job in jobs]
    async with db.session() as s:
        rows = (await s.execute(select(SystemSetting).where(SystemSetting.key.in_(keys)))).scalars()
        found = {row.key.removeprefix(PREFIX): row.value for row in rows}
    return {
        job: JobState.from_json(found[job]) if isinstance(found.get(job), dict) else JobState()
        for job in jobs
    }


async def save_states(db: Database, states: dict[str, JobState]) -> None:
    async with db.write() as s:
        for job, state in states.items():
            await s.merge(SystemSetting(key=PREFIX + job, value=state.as_json()))
