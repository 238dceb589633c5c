"""`showkeeper series add|ls|retry` and `showkeeper source refresh|import-opml|export-opml|search`."""

from __future__ import annotations

import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from showkeeper.cli.base import (
    KindOpt,
    SourceUrlArg,
    cli_logging,
    console,
    err_console,
    failed_add,
    group,
    handle_errors,
    run_async,
    settings_from,
)
from showkeeper.errors import ShowkeeperError

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.context import AppContext


def open_context(settings: Settings) -> AbstractAsyncContextManager[AppContext]:
    from showkeeper.context import open_context as open_ctx

    return open_ctx(settings)


async def _metadata(ctx: Any, key: str) -> str:
    """As the server does after an add: scan the new series' folder, write its NFOs and art."""
    from showkeeper.library.service import LibraryUnavailableError, library_root
    from showkeeper.metadata.load import LoadOptions, load_metadata

    try:
        root = library_root(ctx.settings)
    except LibraryUnavailableError as exc:
        return f"no metadata written ({exc})"
    result = await load_metadata(ctx, key, root, LoadOptions(scan=True))
    if result.errors:
        return "metadata loaded with problems: " + "; ".join(
            f"{step}: {error}" for step, error in result.errors.items()
        )
    return f"metadata loaded ({len(result.written)} images written)"


async def _add(
    settings: Settings, url: str, kind: str | None, key: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    from showkeeper.sources.service import AddFailedError, add_or_retry, series_for_url
    from showkeeper.sources.store import episode_count

    async with open_context(settings) as ctx:
        known = await series_for_url(ctx, url)
        try:
            row = await add_or_retry(ctx, url, known, kind=kind, options=options or None, key=key)
        except AddFailedError as exc:
            raise ShowkeeperError(failed_add(str(exc), exc.key)) from None
        async with ctx.db.session() as s:
            count = await episode_count(s, row.id)
        metadata = await _metadata(ctx, row.key)
    return {
        "key": row.key,
        "name": row.name,
        "folder": row.folder,
        "kind": row.source_kind,
        "episodes": count,
        "metadata": metadata,
    }


async def _list(settings: Settings) -> list[dict[str, Any]]:
    from showkeeper.series.service import SeriesQuery, list_series

    rows: list[dict[str, Any]] = []
    async with open_context(settings) as ctx:
        page = 1
        while True:
            total, items = await list_series(ctx.db, SeriesQuery(page=page, page_size=500))
            rows.extend(items)
            if not items or len(rows) >= total:
                break
            page += 1
    return [
        {
            "key": series["key"],
            "name": series["name"],
            "folder": series["folder"],
            "kind": series["source_kind"],
            "status": series["loading_status"],
            "error": series["loading_error"],
            "monitored": series["monitored"],
            "episodes": series["episode_count"],
            "downloaded": series["downloaded_count"],
            "missing": series["missing_count"],
            "url": series["source_url"],
        }
        for series in rows
    ]


async def _retry(settings: Settings, key: str) -> dict[str, Any]:
    from showkeeper.series.service import resolve_series_key
    from showkeeper.sources.service import retry_series

    async with open_context(settings) as ctx:
        row = await retry_series(ctx, await resolve_series_key(ctx.db, key), background=False)
    return {"key": row.key, "name": row.name}


async def _refresh(settings: Settings, key: str | None) -> dict[str, Any]:
    from showkeeper.cli.progress import delayed_bar, following
    from showkeeper.series.service import resolve_series_key
    from showkeeper.sources.service import refresh_all, refresh_series

    async with open_context(settings) as ctx:
        if key is not None:
            key = await resolve_series_key(ctx.db, key)
        with delayed_bar("refreshing", "series") as bar:

            def show(data: dict[str, Any]) -> None:
                failed = f" · {data['failed']} failed" if data["failed"] else ""
                bar.update(completed=data["done"], total=data["total"], extra=failed)

            async with following(ctx.bus, {"refresh_progress"}, show):
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
    series_app = group(app, "series", "Series: add from a source, list, show, edit, remove.")
    source_app = group(app, "source", "Sources: refresh, OPML import, podcast search.")

    @series_app.command("add")
    @handle_errors
    def series_add(
        ctx: typer.Context,
        url: SourceUrlArg,
        kind: KindOpt = None,
        key: Annotated[
            str | None,
            typer.Option(
                "--key",
                help="The series key (default: from its title, e.g. tour-show).",
            ),
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
        cli_logging(settings)
        options = _options(include, exclude, not_before, season_mode)
        added = run_async(_add(settings, url, kind, key, options))
        console.print(
            f"added [bold]{added['name']}[/] as {added['key']} ({added['kind']}): "
            f"{added['episodes']} episodes, folder {added['folder']!r}",
            highlight=False,
            soft_wrap=True,
        )
        console.print(added["metadata"], highlight=False, soft_wrap=True)

    @series_app.command("ls")
    @handle_errors
    def series_ls(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """List the series with their source, loading status and episode counts."""
        rows = run_async(_list(settings_from(ctx)))
        if as_json:
            typer.echo(json.dumps(rows))
            return
        from rich.table import Table

        table = Table("key", "name", "kind", "status", "on disk", "missing", "url")
        for row in rows:
            status = row["status"] if not row["error"] else f"{row['status']}: {row['error']}"
            table.add_row(
                row["key"],
                row["name"],
                row["kind"],
                status,
                f"{row['downloaded']}/{row['episodes']}",
                str(row["missing"]),
                row["url"] or "",
            )
        console.print(table)

    @series_app.command("retry")
    @handle_errors
    def series_retry(
        ctx: typer.Context, key: Annotated[str, typer.Argument(help="The series key.")]
    ) -> None:
        """Load a series whose adding failed again (in the foreground)."""
        settings = settings_from(ctx)
        cli_logging(settings)
        done = run_async(_retry(settings, key))
        console.print(f"loaded {done['name']} ({done['key']})", highlight=False, soft_wrap=True)

    @source_app.command("refresh")
    @handle_errors
    def source_refresh(
        ctx: typer.Context,
        key: Annotated[str | None, typer.Argument(help="One series; all when omitted.")] = None,
    ) -> None:
        """Refresh the episodes of every source (or one series)."""
        settings = settings_from(ctx)
        cli_logging(settings)
        summary = run_async(_refresh(settings, key))
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
        settings = settings_from(ctx)
        cli_logging(settings)
        report = run_async(_import(settings, file.read_bytes()))
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
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document.")] = False,
    ) -> None:
        """Search the podcast directory for feeds to add."""
        results = run_async(_search(settings_from(ctx), query, limit))
        if as_json:
            typer.echo(json.dumps(results, default=str))
            return
        from rich.table import Table

        table = Table("title", "author", "episodes", "feed URL")
        for r in results:
            table.add_row(r["title"], r["author"] or "", str(r["episode_count"] or ""), r["url"])
        console.print(table)
