"""`showkeeper scan [--series KEY] [--full]` and `showkeeper missing [--series KEY]`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import (
    SeriesOpt,
    cli_logging,
    console,
    handle_errors,
    run_async,
    settings_from,
)

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.context import AppContext
    from showkeeper.library.results import ScanResult
    from showkeeper.series.missing import MissingEpisode

SHOWN_ISSUES = 20


async def _scan(settings: Settings, series_key: str | None, full: bool) -> ScanResult:
    from showkeeper.cli.progress import delayed_bar, following
    from showkeeper.context import open_context
    from showkeeper.library.service import run_scan
    from showkeeper.series.service import resolve_series_key

    async with open_context(settings) as ctx:
        if series_key is not None:
            series_key = await resolve_series_key(ctx.db, series_key)
        with delayed_bar("scanning", "series") as bar:

            def show(data: dict[str, Any]) -> None:
                bar.update(
                    completed=data["done"], total=data["total"], extra=f" · {data['files']} files"
                )

            async with following(ctx.bus, {"scan_progress"}, show):
                result = await run_scan(ctx, series_key=series_key, force=full)
        await _print_issues(ctx)
        return result


async def _print_issues(ctx: AppContext) -> None:
    from rich.table import Table

    from showkeeper.library.service import library_issues

    root = ctx.settings.library_dir
    for unmapped, title in ((True, "unmapped folders"), (False, "files not used")):
        total, items = await library_issues(ctx.db, root, unmapped=unmapped, limit=SHOWN_ISSUES)
        if not total:
            continue
        table = Table("kind", "path", "why", title=f"{title} ({total})", title_justify="left")
        for item in items:
            table.add_row(item["kind"], item["relative_path"], item["detail"])
        console.print(table)
        if total > len(items):
            more = "/api/library/unmapped" if unmapped else "/api/library/unparsed"
            console.print(f"... and {total - len(items)} more (GET {more})", highlight=False)


def _print_summary(result: ScanResult) -> None:
    s = result.stats
    if result.folder_missing:
        console.print(f"[yellow]the folder of {result.series_key} is not on disk[/]")
    console.print(
        f"scanned {s.series_total} series folders in {result.duration_s:.2f} s: "
        f"{s.folders_read} folders read, {s.folders_skipped} unchanged; "
        f"{s.files_seen} media files read, {s.files_matched} matched",
        highlight=False,
    )
    console.print(
        f"episodes found {s.episodes_found} (local only {s.local_added}), "
        f"gone {s.episodes_gone}; series imported {s.series_created}; "
        f"unmapped folders {s.unmapped}; unparsed files {s.unparsed}; issues {s.issues}",
        highlight=False,
    )


async def _missing(settings: Settings, series_key: str | None) -> list[MissingEpisode]:
    from showkeeper.context import open_context
    from showkeeper.series.missing import missing_episodes
    from showkeeper.series.service import resolve_series_key

    async with open_context(settings) as ctx:
        if series_key is not None:
            series_key = await resolve_series_key(ctx.db, series_key)
        return await missing_episodes(ctx.db, series_key=series_key)


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def scan(
        ctx: typer.Context,
        series: SeriesOpt = None,
        full: Annotated[
            bool, typer.Option("--full", help="Read every folder, even unchanged ones.")
        ] = False,
    ) -> None:
        """Scan the library folder and bring the database in line with what is on disk."""
        settings = settings_from(ctx)
        cli_logging(settings)
        result = run_async(_scan(settings, series, full))
        _print_summary(result)

    @app.command()
    @handle_errors
    def missing(
        ctx: typer.Context,
        series: SeriesOpt = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List the missing episodes (known at the source, aired, not on disk or queued).

        Monitored series and episodes only, and only what the series' filters keep.
        """
        from rich.table import Table

        items = run_async(_missing(settings_from(ctx), series))
        if as_json:
            console.print_json(json.dumps([m.as_dict() for m in items]))
            return
        table = Table("series", "episode", "title", "aired")
        for m in items:
            aired = m.air_date.isoformat() if m.air_date else ""
            table.add_row(m.series_key, f"S{m.season:02d}E{m.episode:02d}", m.title or "", aired)
        if items:
            console.print(table)
        console.print(f"{len(items)} missing episodes", highlight=False)
