"""`showkeeper series show|rm|edit`: one series, by key, folder name or unique prefix."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import console, fail, group, handle_errors, run_async, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings

SeriesArg = Annotated[str, typer.Argument(help="The series: key, folder name or unique prefix.")]

_STATE_STYLE = {
    "on_disk": "green",
    "downloading": "cyan",
    "queued": "cyan",
    "failed": "red",
    "missing": "yellow",
    "filtered": "dim",
    "unmonitored": "dim",
    "upcoming": "blue",
}


async def _show(settings: Settings, ref: str) -> dict[str, Any]:
    from showkeeper.context import open_context
    from showkeeper.series.service import get_series, resolve_series_key

    async with open_context(settings) as ctx:
        return await get_series(ctx.db, await resolve_series_key(ctx.db, ref))


async def _edit(
    settings: Settings, ref: str, monitored: bool | None, options: dict[str, Any] | None
) -> dict[str, Any]:
    from showkeeper.context import open_context
    from showkeeper.series.service import resolve_series_key, update_series

    async with open_context(settings) as ctx:
        key = await resolve_series_key(ctx.db, ref)
        return await update_series(ctx.db, key, monitored=monitored, options=options)


async def _remove(settings: Settings, key: str, *, files: bool) -> bool:
    from showkeeper.context import open_context
    from showkeeper.series.service import delete_series

    async with open_context(settings) as ctx:
        return await delete_series(ctx.db, key, library_dir=ctx.settings.library_dir, files=files)


def _print_series(data: dict[str, Any]) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{data['name']}[/] ({data['key']}) · folder {data['folder']!r} · "
        f"{data['source_kind']} {data['source_url'] or ''}",
        highlight=False,
        soft_wrap=True,
    )
    console.print(
        f"{data['episode_count']} episodes: {data['downloaded_count']} on disk, "
        f"{data['missing_count']} missing" + ("" if data["monitored"] else " · not monitored"),
        highlight=False,
    )
    if data.get("options"):
        console.print(f"options: {json.dumps(data['options'])}", highlight=False)
    season = None
    table: Table | None = None
    for ep in data["episodes"]:
        if ep["season"] != season:
            if table is not None:
                console.print(table)
            season = ep["season"]
            name = "Specials" if season == 0 else f"Season {season}"
            table = Table("episode", "title", "aired", "state", title=name, title_justify="left")
        assert table is not None
        state = ep["state"]
        if ep.get("state_reason"):
            state = f"{state}: {ep['state_reason']}"
        aired = str(ep["air_date"] or "")
        style = _STATE_STYLE.get(ep["state"], "")
        table.add_row(
            f"S{ep['season']:02d}E{ep['episode']:02d}",
            ep["title"] or "",
            aired,
            f"[{style}]{state}[/]" if style else state,
        )
    if table is not None:
        console.print(table)


def register(app: typer.Typer) -> None:
    series_app = group(app, "series", "Series: add from a source, list, show, edit, remove.")

    @series_app.command("show")
    @handle_errors
    def show(
        ctx: typer.Context,
        series: SeriesArg,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """A series with its seasons and each episode's state."""
        data = run_async(_show(settings_from(ctx), series))
        if as_json:
            typer.echo(json.dumps(data, default=str))
        else:
            _print_series(data)

    @series_app.command("edit")
    @handle_errors
    def edit(
        ctx: typer.Context,
        series: SeriesArg,
        monitored: Annotated[
            bool | None,
            typer.Option("--monitored/--unmonitored", help="Download its missing episodes or not."),
        ] = None,
        include: Annotated[
            str | None, typer.Option(help="Keep only titles matching this regex ('' clears).")
        ] = None,
        exclude: Annotated[
            str | None, typer.Option(help="Drop titles matching this regex ('' clears).")
        ] = None,
        not_before: Annotated[
            str | None, typer.Option(help="Drop episodes before YYYY-MM-DD ('' clears).")
        ] = None,
        min_duration: Annotated[
            int | None, typer.Option("--min-duration", help="Drop shorter episodes (seconds).")
        ] = None,
        max_duration: Annotated[
            int | None, typer.Option("--max-duration", help="Drop longer episodes (seconds).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """Change whether a series is monitored and its filters (validated as the API does)."""
        given = {
            "include": include,
            "exclude": exclude,
            "not_before": not_before,
            "min_duration_s": min_duration,
            "max_duration_s": max_duration,
        }
        # '' clears an option (None in the merge removes it); options not given are kept
        options = {k: (None if v == "" else v) for k, v in given.items() if v is not None}
        if monitored is None and not options:
            raise fail("nothing to change: give --monitored/--unmonitored or a filter option", 2)
        data = run_async(_edit(settings_from(ctx), series, monitored, options or None))
        if as_json:
            typer.echo(json.dumps(data, default=str))
            return
        console.print(
            f"{data['key']}: {'monitored' if data['monitored'] else 'not monitored'}, "
            f"options {json.dumps(data['options'])}, {data['missing_count']} missing",
            highlight=False,
            soft_wrap=True,
        )

    @series_app.command("rm")
    @handle_errors
    def rm(
        ctx: typer.Context,
        series: SeriesArg,
        delete_files: Annotated[
            bool,
            typer.Option(
                "--delete-files", help="Also delete its folder (only inside the library folder)."
            ),
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
    ) -> None:
        """Remove a series, its episodes and queue items; with --delete-files, its folder."""
        settings = settings_from(ctx)
        found = run_async(_show(settings, series))
        key, name = found["key"], found["name"]
        if not yes:
            where = f" and delete its folder {found['folder']!r}" if delete_files else ""
            if not typer.confirm(f"remove {name} ({key}){where}?", default=False):
                raise fail("nothing removed")
        deleted = run_async(_remove(settings, key, files=delete_files))
        note = " and its folder" if deleted else ""
        console.print(f"removed {name} ({key}){note}", highlight=False)
