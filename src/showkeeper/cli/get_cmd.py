"""`showkeeper get URL`: from a source URL to files in the library, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from showkeeper.cli.base import (
    KindOpt,
    SourceUrlArg,
    cli_logging,
    console,
    fail,
    failed_add,
    handle_errors,
    run_async,
    settings_from,
)
from showkeeper.errors import ShowkeeperError

if TYPE_CHECKING:
    from showkeeper.cli.download_view import DownloadRun
    from showkeeper.config import Settings
    from showkeeper.context import AppContext


async def _series_key(ctx: AppContext, url: str, kind: str | None) -> str:
    """The series of ``url``: added (and loaded) when new, loaded again when its add failed,
    else refreshed from its source."""
    from showkeeper.cli.queue_cmd import refresh_before_download
    from showkeeper.sources.service import FAILED, AddFailedError, add_or_retry, series_for_url
    from showkeeper.sources.store import episode_count

    known = await series_for_url(ctx, url)
    if known is not None and known.loading_status != FAILED:
        await refresh_before_download(ctx, known.key)
        return known.key
    try:
        row = await add_or_retry(ctx, url, known, kind=kind)
    except AddFailedError as exc:
        raise ShowkeeperError(failed_add(str(exc), exc.key)) from None
    async with ctx.db.session() as s:
        count = await episode_count(s, row.id)
    console.print(
        f"added [bold]{row.name}[/] as {row.key}: {count} episodes, folder {row.folder!r}",
        highlight=False,
        soft_wrap=True,
    )
    return row.key


async def _get(
    settings: Settings, url: str, kind: str | None, concurrency: int | None
) -> DownloadRun:
    from showkeeper.cli.queue_cmd import download_series
    from showkeeper.context import open_context
    from showkeeper.services import download_companions

    async with open_context(settings, services=download_companions, migrate_in_child=True) as ctx:
        key = await _series_key(ctx, url, kind)
        return await download_series(ctx, key, concurrency=concurrency)


def register(app: typer.Typer) -> None:
    @app.command("get")
    @handle_errors
    def get(
        ctx: typer.Context,
        url: SourceUrlArg,
        library: Annotated[
            Path | None,
            typer.Option("--library", help="The library folder (default: library_dir)."),
        ] = None,
        kind: KindOpt = None,
        concurrency: Annotated[
            int | None, typer.Option(min=1, max=64, help="Overrides download_concurrency.")
        ] = None,
    ) -> None:
        """Add the series at URL (or find it), refresh it and download what is missing.

        A series seen before is refreshed with one conditional request; a failed add is
        retried. Ends with a summary line; exit 1 when a download failed.
        """
        from showkeeper.cli.queue_cmd import print_results

        overrides = {"library_dir": library.expanduser().absolute()} if library else {}
        settings = settings_from(ctx, **overrides)
        if settings.library_dir is None:
            raise fail(
                "no library folder: give --library DIR or `showkeeper config set library_dir DIR`",
                2,
            )
        cli_logging(settings)
        print_results(run_async(_get(settings, url, kind, concurrency)))
