"""`showkeeper series add|ls|retry` and `showkeeper source refresh|import-opml|export-opml|search`."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import console, err_console, handle_errors, run_async, settings_from
from showkeeper.errors import ShowkeeperError

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.context import AppContext


def open_context(settings: Settings) -> AbstractAsyncContextManager[AppContext]:
    from showkeeper.context import open_context as open_ctx

    return open_ctx(settings)


def _group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name``, shared with other modules that add to it."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(group, name=name)
    return group


async def _add(
    settings: Settings, url: str, kind: str | None, key: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    from showkeeper.sources.service import load_series, register_series
    from showkeeper.sources.store import episode_count

    async with open_context(settings) as ctx:
        pending = await register_series(ctx, url, kind=kind, options=options or None, key=key)
        try:
            row = await load_series(ctx, pending.key)
        except ShowkeeperError as exc:
            raise ShowkeeperError(
                f"{exc} (series {pending.key} is recorded as failed: "
                f"`showkeeper series retry {pending.key}` once fixed, or remove it)"
            ) from None
        async with ctx.db.session() as s:
            count = await episode_count(s, row.id)
    return {
        "key": row.key,
        "name": row.name,
        "folder": row.folder,
        "kind": row.source_kind,
        "episodes": count,
    }


async def _list(settings: Settings) -> list[dict[str, Any]]:
    from sqlalchemy import func, select

    from showkeeper.db.models import Episode, Series

    async with open_context(settings) as ctx, ctx.db.session() as s:
        counts = (
            select(Episode.series_id, func.count().label("n"))
            .group_by(Episode.series_id)
            .subquery()
        )
        rows = await s.execute(
            select(Series, counts.c.n)
            .outerjoin(counts, counts.c.series_id == Series.id)
            .order_by(Series.name)
        )
        return [
            {
                "key": series.key,
                "name": series.name,
                "kind": series.source_kind,
                "status": series.loading_status,
                "error": series.loading_error,
                "episodes": int(n or 0),
                "url": series.source_url,
            }
            for series, n in rows
        ]


async def _retry(settings: Settings, key: str) -> dict[str, Any]:
    from showkeeper.sources.service import retry_series

    async with open_context(settings) as ctx:
        row = await retry_series(ctx, key, background=False)
    return {"key": row.key, "name": row.name}


async def _refresh(settings: Settings, key: str | None) -> dict[str, Any]:
    from showkeeper.sources.service import refresh_all, refresh_series

    async with open_context(settings) as ctx:
        summary = await (refresh_series(ctx, key) if key else refresh_all(ctx))
    return summary.as_dict()


async def _import(settings: Settings, data: bytes) -> dict[str, Any]:
    from showkeeper.sources.importing import import_opml

    async with open_context(settings) as ctx:
        report = await import_opml(ctx, data, background=False)
    return report.as_dict()


async def _export(settings: Settings) -> bytes:
    from showkeeper.sources.exporting import export_opml

    async with open_context(settings) as ctx:
        return await export_opml(ctx.db)


def _write_atomically(path: Path, data: bytes) -> None:
    import os
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


async def _search(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from showkeeper.sources.service import search_sources

    async with open_context(settings) as ctx:
        return [asdict(r) for r in await search_sources(ctx, query, limit=limit)]


def _options(
    include: str | None, exclude: str | None, not_before: str | None, season_mode: str | None
) -> dict[str, Any]:
    values = {
        "include": include,
        "exclude": exclude,
        "not_before": not_before,
        "season_mode": season_mode,
    }
    return {k: v for k, v in values.items() if v is not None}


def register(app: typer.Typer) -> None:
    series_app = _group(app, "series", "Series: add from a source, list.")
    source_app = _group(app, "source", "Sources: refresh, OPML import, podcast search.")

    @series_app.command("add")
    @handle_errors
    def series_add(
        ctx: typer.Context,
        url: Annotated[str, typer.Argument(help="Feed, channel/playlist or directory URL.")],
        kind: Annotated[
            str | None,
            typer.Option("--kind", help="feed, ytdlp or httpdir (detected when omitted)."),
        ] = None,
        key: Annotated[
            str | None, typer.Option("--key", help="The series key (default: from the URL).")
        ] = None,
        include: Annotated[
            str | None, typer.Option(help="Keep only titles matching this regex.")
        ] = None,
        exclude: Annotated[
            str | None, typer.Option(help="Drop titles matching this regex.")
        ] = None,
        not_before: Annotated[
            str | None, typer.Option(help="Drop episodes before YYYY-MM-DD.")
        ] = None,
        season_mode: Annotated[
            str | None, typer.Option(help="yt-dlp seasons: playlist or year.")
        ] = None,
    ) -> None:
        """Add a series from a source and load its episodes (in the foreground)."""
        settings = settings_from(ctx)
        options = _options(include, exclude, not_before, season_mode)
        added = run_async(_add(settings, url, kind, key, options))
        console.print(
            f"added [bold]{added['name']}[/] as {added['key']} ({added['kind']}): "
            f"{added['episodes']} episodes, folder {added['folder']!r}",
            highlight=False,
            soft_wrap=True,
        )

    @series_app.command("ls")
    @handle_errors
    def series_ls(
        ctx: typer.Context,
        as_json: Annotated[
            bool, typer.Option("--json", help="JSON lines instead of a table.")
        ] = False,
    ) -> None:
        """List the series with their source and loading status."""
        rows = run_async(_list(settings_from(ctx)))
        if as_json:
            for row in rows:
                typer.echo(json.dumps(row))
            return
        from rich.table import Table

        table = Table("key", "name", "kind", "status", "episodes", "url")
        for row in rows:
            status = row["status"] if not row["error"] else f"{row['status']}: {row['error']}"
            table.add_row(
                row["key"], row["name"], row["kind"], status, str(row["episodes"]), row["url"] or ""
            )
        console.print(table)

    @series_app.command("retry")
    @handle_errors
    def series_retry(
        ctx: typer.Context, key: Annotated[str, typer.Argument(help="The series key.")]
    ) -> None:
        """Load a series whose adding failed again (in the foreground)."""
        done = run_async(_retry(settings_from(ctx), key))
        console.print(f"loaded {done['name']} ({done['key']})", highlight=False, soft_wrap=True)

    @source_app.command("refresh")
    @handle_errors
    def source_refresh(
        ctx: typer.Context,
        key: Annotated[str | None, typer.Argument(help="One series; all when omitted.")] = None,
    ) -> None:
        """Refresh the episodes of every source (or one series)."""
        summary = run_async(_refresh(settings_from(ctx), key))
        console.print(
            f"refreshed {summary['series']} series in {summary['duration_s']}s: "
            f"{summary['changed']} changed, {summary['not_modified']} not modified, "
            f"{summary['failed']} failed, {summary['episodes_added']} new episodes",
            highlight=False,
            soft_wrap=True,
        )
        for failed_key, error in summary["errors"].items():
            err_console.print(f"{failed_key}: {error}", highlight=False, soft_wrap=True)
        if summary["failed"] and key:
            raise typer.Exit(1)

    @source_app.command("import-opml")
    @handle_errors
    def source_import(
        ctx: typer.Context,
        file: Annotated[
            Path,
            typer.Argument(
                help="An OPML file (podcast apps export one).", exists=True, dir_okay=False
            ),
        ],
    ) -> None:
        """Add every feed listed in an OPML file."""
        report = run_async(_import(settings_from(ctx), file.read_bytes()))
        failed_keys = {f["key"] for f in report["failed"]}
        loaded = [a for a in report["added"] if a["key"] not in failed_keys]
        console.print(
            f"{len(loaded)} added, {len(report['existing'])} already present, "
            f"{len(report['failed'])} failed, {len(report['invalid'])} invalid",
            highlight=False,
            soft_wrap=True,
        )
        for item in loaded:
            console.print(f"  added {item['key']}", highlight=False, soft_wrap=True)
        for item in report["failed"]:
            err_console.print(
                f"  failed {item['key']}: {item['error']}", highlight=False, soft_wrap=True
            )
        for item in report["invalid"]:
            err_console.print(
                f"  invalid {item['url']}: {item['error']}", highlight=False, soft_wrap=True
            )

    @source_app.command("export-opml")
    @handle_errors
    def source_export(
        ctx: typer.Context,
        output: Annotated[
            Path,
            typer.Option(
                "--output",
                "-o",
                help="Where to write the OPML file ('-' for stdout).",
                dir_okay=False,
            ),
        ],
    ) -> None:
        """Write every feed source as an OPML file (import-opml reads it back)."""
        data = run_async(_export(settings_from(ctx)))
        if str(output) == "-":
            typer.echo(data.decode("utf-8"), nl=False)
            return
        if not output.parent.is_dir():
            raise ShowkeeperError(f"folder {output.parent} does not exist; create it first")
        try:
            _write_atomically(output, data)
        except OSError as exc:
            raise ShowkeeperError(f"cannot write {output}: {exc.strerror}") from None
        count = data.count(b"<outline ")
        console.print(f"{count} feeds written to {output}", highlight=False, soft_wrap=True)

    @source_app.command("search")
    @handle_errors
    def source_search(
        ctx: typer.Context,
        query: Annotated[str, typer.Argument(help="Words of the podcast's name.")],
        limit: Annotated[int, typer.Option(min=1, max=200)] = 20,
    ) -> None:
        """Search the podcast directory for feeds to add."""
        results = run_async(_search(settings_from(ctx), query, limit))
        from rich.table import Table

        table = Table("title", "author", "episodes", "feed URL")
        for r in results:
            table.add_row(r["title"], r["author"] or "", str(r["episode_count"] or ""), r["url"])
        console.print(table)
