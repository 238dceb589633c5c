"""`showkeeper nfo [--series KEY] [--repair] [--replace-artwork]`: NFOs and artwork on demand."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from showkeeper.cli.base import cli_logging, console, handle_errors, run_async, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.metadata.load import LoadResult


async def _nfo(
    settings: Settings, series: str | None, repair: bool, replace: bool
) -> list[LoadResult]:
    from showkeeper.cli.progress import delayed_bar
    from showkeeper.context import open_context
    from showkeeper.metadata.load import LoadOptions
    from showkeeper.metadata.loader import repair_metadata, series_needing_repair
    from showkeeper.series.service import resolve_series_key

    async with open_context(settings) as ctx:
        keys = [await resolve_series_key(ctx.db, series)] if series else None
        force = not repair or replace  # without --repair: load everything asked for
        if force:
            from sqlalchemy import select

            from showkeeper.db.models import Series

            async with ctx.db.session() as s:
                stmt = select(Series.key)
                if keys:
                    stmt = stmt.where(Series.key.in_(keys))
                total = len((await s.scalars(stmt)).all())
        else:
            total = len(await series_needing_repair(ctx, keys))
        with delayed_bar("metadata", "series") as bar:
            bar.update(total=total)

            def done(result: LoadResult) -> None:
                bar.update(advance=1, extra=f" · {result.key}")

            return await repair_metadata(
                ctx,
                keys=keys,
                opts=LoadOptions(replace_artwork=replace),
                force=force,
                on_done=done,
            )


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def nfo(
        ctx: typer.Context,
        series: Annotated[
            str | None,
            typer.Option("--series", help="Only this series (key, folder or unique prefix)."),
        ] = None,
        repair: Annotated[
            bool,
            typer.Option(
                "--repair", help="Only series whose NFOs or artwork are missing or broken."
            ),
        ] = False,
        replace_artwork: Annotated[
            bool, typer.Option("--replace-artwork", help="Also replace artwork other tools wrote.")
        ] = False,
    ) -> None:
        """Write NFOs and artwork (poster, fanart, logo, thumbs) for the library's series."""
        settings = settings_from(ctx)
        cli_logging(settings)
        results = run_async(_nfo(settings, series, repair, replace_artwork))
        problems = 0
        for result in results:
            if result.errors:
                problems += 1
                for step, error in result.errors.items():
                    console.print(f"[yellow]{result.key}[/] {step}: {error}", highlight=False)
        console.print(
            f"{len(results)} series loaded, {sum(len(r.written) for r in results)} images "
            f"written, {problems} with problems",
            highlight=False,
        )
