"""`showkeeper rename [--series KEY] [--dry-run]`: files on disk to the naming templates."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import SeriesOpt, console, handle_errors, run_async, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Only show what would happen; change nothing.")
]
SHOWN_MOVES = 200


async def _rename(settings: Settings, series_key: str | None, dry_run: bool) -> list[Any]:
    from showkeeper.context import open_context
    from showkeeper.library.rename import recover_renames, rename_library
    from showkeeper.library.service import library_root
    from showkeeper.series.service import resolve_series_key

    async with open_context(settings) as ctx:
        if series_key is not None:
            series_key = await resolve_series_key(ctx.db, series_key)
        root = library_root(ctx.settings)
        await recover_renames(ctx.db, root)
        return await rename_library(ctx.db, root, series_key=series_key, dry_run=dry_run)


def _print_moves(results: list[dict[str, Any]], dry_run: bool) -> bool:
    """The table of moves and the problems; True when a series was refused."""
    from rich.table import Table

    table = Table("series", "old", "new", title="moves" if not dry_run else "would move")
    shown = 0
    moves = 0
    refused = False
    for result in results:
        for move in result["moves"]:
            moves += 1
            if shown < SHOWN_MOVES:
                table.add_row(result["series_key"], move["old"], move["new"])
                shown += 1
    if moves:
        console.print(table)
        if moves > shown:
            console.print(f"... and {moves - shown} more", highlight=False)
    for result in results:
        for problem in result["conflicts"]:
            refused = True
            console.print(f"[red]{result['series_key']}: {problem}[/]", highlight=False)
        if result.get("error"):
            refused = True
            console.print(f"[red]{result['error']}[/]", highlight=False)
        for note in result["skipped"]:
            console.print(f"[yellow]{result['series_key']}: kept {note}[/]", highlight=False)
        if result.get("batch_id"):
            console.print(
                f"{result['series_key']}: renamed ({result['moved']} moves); undo with "
                f"POST /api/rename/{result['batch_id']}/undo",
                highlight=False,
            )
    verb = "would move" if dry_run else "moved"
    done = sum(len(r["moves"]) for r in results) if dry_run else sum(r["moved"] for r in results)
    console.print(f"{verb} {done} files and folders in {len(results)} series", highlight=False)
    return refused


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def rename(ctx: typer.Context, series: SeriesOpt = None, dry_run: DryRunOption = False) -> None:
        """Rename files on disk to the naming templates (NFOs and thumbnails move along).

        A series with a conflict (a target that exists, two files with one name) is left as it
        is and reported; the exit code is then 1.
        """
        results = run_async(_rename(settings_from(ctx), series, dry_run))
        if _print_moves(results, dry_run):
            raise typer.Exit(1)
