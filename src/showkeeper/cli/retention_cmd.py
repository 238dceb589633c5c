"""`showkeeper retention [--series KEY] [--dry-run] [--confirm]`: apply the retention rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import SeriesOpt, console, handle_errors, run_async, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Only show what would be removed; change nothing.")
]


async def _retention(
    settings: Settings, series_key: str | None, dry_run: bool, confirm: bool
) -> list[Any]:
    from showkeeper.context import open_context
    from showkeeper.library.retention import run_retention
    from showkeeper.library.service import library_root
    from showkeeper.series.service import resolve_series_key

    async with open_context(settings) as ctx:
        if series_key is not None:
            series_key = await resolve_series_key(ctx.db, series_key)
        root = library_root(ctx.settings)
        results = await run_retention(
            ctx.db, root, series_key=series_key, dry_run=dry_run, confirm=confirm
        )
        return [r.as_dict() for r in results]


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def retention(
        ctx: typer.Context,
        series: SeriesOpt = None,
        dry_run: DryRunOption = False,
        confirm: Annotated[
            bool, typer.Option("--confirm", help="Remove more than the safety floor allows.")
        ] = False,
    ) -> None:
        """Apply the retention rules: remove what they no longer keep and mark it ignored."""
        from rich.table import Table

        results = run_async(_retention(settings_from(ctx), series, dry_run, confirm))
        table = Table("series", "episode", "file", "why", "size")
        for r in results:
            for d in r["delete"]:
                table.add_row(
                    r["series_key"], d["episode"], d["file_path"], d["reason"], str(d["size"])
                )
        if table.row_count:
            console.print(table)
        for r in results:
            if r["needs_confirmation"]:
                console.print(
                    f"[yellow]{r['series_key']}: would remove {len(r['delete'])} of "
                    f"{r['on_disk']} files, more than the safety floor; run with --confirm[/]",
                    highlight=False,
                )
            elif r["skip"]:
                console.print(
                    f"{r['series_key']}: {len(r['skip'])} episodes not on disk "
                    f"{'would be' if dry_run else 'are'} ignored",
                    highlight=False,
                )
        files = sum(len(r["delete"]) for r in results if r["applied"] or dry_run)
        freed = sum(r["freed_bytes"] for r in results)
        verb = "would remove" if dry_run else "removed"
        console.print(f"{verb} {files} files ({freed} bytes freed)", highlight=False)
