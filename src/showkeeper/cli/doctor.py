"""`showkeeper doctor`: what showkeeper would use, and whether it works."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from showkeeper.cli.base import console, handle_errors, run_async, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.health import Check

_STYLE = {"ok": "green", "warning": "yellow", "error": "red"}


async def _checks(settings: Settings) -> list[Check]:
    from showkeeper.db import Database
    from showkeeper.health import check_database, check_disk, check_ffmpeg, check_library

    db = Database(settings.database_url)
    try:
        return [
            await check_database(db),
            check_ffmpeg(),
            check_library(settings.library_dir),
            check_disk(
                settings.data_dir if settings.data_dir.exists() else settings.data_dir.parent
            ),
        ]
    finally:
        await db.dispose()


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def doctor(ctx: typer.Context) -> None:
        """Check database, ffmpeg (and which binary), library folder and disk."""
        from rich.table import Table

        from showkeeper.ffmpeg import find_ffmpeg
        from showkeeper.health import overall

        checks = run_async(_checks(settings_from(ctx)))
        table = Table("check", "status", "detail")
        for c in checks:
            table.add_row(c.name, f"[{_STYLE[c.status]}]{c.status}[/]", c.message)
        console.print(table)
        ffmpeg = find_ffmpeg()
        console.print(f"ffmpeg: {ffmpeg.path or 'none'} (from {ffmpeg.origin})", soft_wrap=True)
        state = overall(checks)
        console.print(f"overall: {state}")
        if state == "unhealthy":
            raise typer.Exit(1)
