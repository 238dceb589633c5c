"""`showkeeper queue ls|add|rm|retry|clear|host|pause|resume|start|stop`, `showkeeper download`
and `showkeeper worker`."""

from __future__ import annotations

import json
import signal
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from showkeeper.cli.base import (
    cli_logging,
    console,
    fail,
    handle_errors,
    run_async,
    settings_from,
)
from showkeeper.errors import ShowkeeperError

if TYPE_CHECKING:
    from showkeeper.cli.download_view import DownloadRun
    from showkeeper.config import Settings
    from showkeeper.context import AppContext
    from showkeeper.domain.queue_rules import QueueCommand

T = TypeVar("T")


async def _with_ctx(settings: Settings, work: Callable[[AppContext], Awaitable[T]]) -> T:
    from showkeeper.context import open_context

    async with open_context(settings) as ctx:
        return await work(ctx)


def _run(ctx: typer.Context, work: Callable[[AppContext], Awaitable[T]]) -> T:
    return run_async(_with_ctx(settings_from(ctx), work))


def _print_status(data: dict[str, Any]) -> None:
    from rich.table import Table

    from showkeeper.cli.download_view import human_size

    counts = ", ".join(f"{n} {state}" for state, n in data["counts"].items())
    console.print(f"queue is [bold]{data['state']}[/]: {counts}", highlight=False)
    rows = data["active"] + data["queued"]["items"] + data.get("failed", [])
    if not rows:
        return
    table = Table("id", "episode", "status", "progress", "attempts", "error")
    for item in rows:
        label = f"{item['series_key']} S{item['season']:02d}E{item['episode']:02d}"
        done = item["downloaded_bytes"]
        progress = f"{human_size(done)} / {human_size(item['total_bytes'])}" if done else ""
        error = (item["last_error"] or "")[:80]
        attempts = f"{item['attempts']}/{item['max_attempts']}"
        table.add_row(str(item["id"]), label, item["status"], progress, attempts, error)
    console.print(table)
    hidden = data["queued"]["total"] - len(data["queued"]["items"])
    if hidden > 0:
        console.print(f"... and {hidden} more queued (use --limit)")


def _state_command(group: typer.Typer, command: QueueCommand, help_text: str) -> None:
    @group.command(command, help=help_text)
    @handle_errors
    def _cmd(ctx: typer.Context) -> None:
        from showkeeper.downloads import service

        state = _run(ctx, lambda c: service.apply(c, command))
        console.print(f"queue is {state}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="The download queue.", no_args_is_help=True)
    app.add_typer(group, name="queue")

    @group.command("ls")
    @handle_errors
    def ls(
        ctx: typer.Context,
        limit: Annotated[int, typer.Option(min=1, max=500, help="Queued items shown.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Show the queue: state, counts, active, queued and failed items."""
        from showkeeper.downloads import service

        data = _run(ctx, lambda c: service.status(c, limit=limit))
        if as_json:
            console.print_json(json.dumps(data, default=str))
        else:
            _print_status(data)

    @group.command("add")
    @handle_errors
    def add(
        ctx: typer.Context,
        episode_ids: Annotated[list[int] | None, typer.Argument(help="Episode ids.")] = None,
        series: Annotated[
            str | None,
            typer.Option("--series", help="Queue this series instead (key, folder or prefix)."),
        ] = None,
        all_episodes: Annotated[
            bool,
            typer.Option(
                "--all", help="With --series: every episode not on disk, not only missing."
            ),
        ] = False,
        priority: Annotated[int, typer.Option(min=-1000, max=1000, help="Higher first.")] = 0,
    ) -> None:
        """Queue episodes by id, or a series' missing episodes."""
        from showkeeper.downloads import service

        if bool(episode_ids) == (series is not None):
            raise fail("give episode ids or --series KEY (not both)", 2)
        if series is not None:

            async def enqueue(c: AppContext) -> Any:
                from showkeeper.series.service import resolve_series_key

                key = await resolve_series_key(c.db, series)
                return await service.enqueue_series(
                    c, key, missing=not all_episodes, priority=priority
                )

            result = _run(ctx, enqueue)
        else:
            result = _run(
                ctx, lambda c: service.enqueue_episodes(c, episode_ids or [], priority=priority)
            )
        console.print(
            f"queued {len(result.item_ids)} episode(s); {len(result.already_active)} already queued"
        )

    @group.command("rm")
    @handle_errors
    def rm(ctx: typer.Context, item_id: Annotated[int, typer.Argument(help="Item id.")]) -> None:
        """Cancel an item if it is queued or downloading, else remove it."""
        from showkeeper.downloads import service

        action = _run(ctx, lambda c: service.remove_item(c, item_id))
        console.print(f"item {item_id} {action}")

    @group.command("retry")
    @handle_errors
    def retry(
        ctx: typer.Context,
        item_ids: Annotated[
            list[int] | None, typer.Argument(help="Items; all failed if none.")
        ] = None,
    ) -> None:
        """Queue failed items again."""
        from showkeeper.downloads import service

        retried = _run(ctx, lambda c: service.retry_items(c, item_ids or None))
        console.print(f"retrying {len(retried)} item(s)")

    @group.command("clear")
    @handle_errors
    def clear(ctx: typer.Context) -> None:
        """Remove completed and cancelled items (history keeps them)."""
        from showkeeper.downloads import service

        removed = _run(ctx, service.clear_completed)
        console.print(f"removed {removed} finished item(s)")

    @group.command("host")
    @handle_errors
    def host(
        ctx: typer.Context,
        name: Annotated[str | None, typer.Argument(help="A source host; none lists them.")] = None,
        concurrency: Annotated[
            int | None, typer.Option(min=1, max=32, help="Downloads at once from it.")
        ] = None,
        delay: Annotated[
            float | None, typer.Option(min=0, max=3600, help="Seconds between its downloads.")
        ] = None,
        remove: Annotated[bool, typer.Option("--rm", help="Back to the global limits.")] = False,
    ) -> None:
        """A source host's own download limits (every worker process honours them)."""
        from showkeeper.downloads import host_limits

        if name is None:
            for view in _run(ctx, host_limits.list_for):
                console.print(
                    f"{view.host}\tconcurrency={view.concurrency}\tdelay_s={view.delay_s}"
                    + (f"\t{view.state()}" if view.state() else "")
                )
            return
        if remove:
            _run(ctx, lambda c: host_limits.remove_limit(c.db, name))
            console.print(f"{name}: global limits")
            return
        view = _run(
            ctx,
            lambda c: host_limits.set_limit(c.db, name, concurrency=concurrency, delay_s=delay),
        )
        console.print(f"{view.host}: concurrency={view.concurrency} delay_s={view.delay_s}")

    _state_command(group, "pause", "Start no new downloads; running ones finish.")
    _state_command(group, "resume", "Run the queue again.")
    _state_command(group, "start", "Run the queue.")
    _state_command(group, "stop", "Stop the queue; running downloads resume after start.")

    @app.command("download")
    @handle_errors
    def download(
        ctx: typer.Context,
        series: Annotated[
            str, typer.Option("--series", help="The series: key, folder or unique prefix.")
        ],
        missing: Annotated[
            bool,
            typer.Option("--missing/--all", help="Only missing episodes, or all not on disk."),
        ] = True,
        concurrency: Annotated[
            int | None, typer.Option(min=1, max=64, help="Overrides download_concurrency.")
        ] = None,
        refresh: Annotated[
            bool,
            typer.Option("--refresh/--no-refresh", help="Ask the source what is new first."),
        ] = True,
    ) -> None:
        """Refresh a series from its source, queue its episodes and download them here."""
        settings = settings_from(ctx)
        cli_logging(settings)
        print_results(run_async(_foreground(settings, series, missing, concurrency, refresh)))

    @app.command("worker")
    @handle_errors
    def worker(
        ctx: typer.Context,
        concurrency: Annotated[
            int | None, typer.Option(min=1, max=64, help="Overrides download_concurrency.")
        ] = None,
    ) -> None:
        """Run download workers only (scaled out: several processes on one database)."""
        from showkeeper.logging import setup_logging

        settings = settings_from(ctx)
        setup_logging(
            settings.log_level, logs_dir=settings.logs_dir, console_format=settings.log_format
        )
        run_async(_worker(settings, concurrency))


async def _foreground(
    settings: Settings, series_key: str, missing: bool, concurrency: int | None, refresh: bool
) -> DownloadRun:
    from showkeeper.context import open_context
    from showkeeper.series.service import resolve_series_key
    from showkeeper.services import download_companions

    async with open_context(settings, services=download_companions) as ctx:
        series_key = await resolve_series_key(ctx.db, series_key)
        if refresh:
            await refresh_before_download(ctx, series_key)
        return await download_series(ctx, series_key, missing=missing, concurrency=concurrency)


async def refresh_before_download(ctx: AppContext, series_key: str) -> None:
    """Ask the series' source what is new (one conditional request for a feed); a source
    that cannot be reached is reported and the download goes on with what is known."""
    from showkeeper.sources.service import refresh_series

    try:
        summary = await refresh_series(ctx, series_key)
    except ShowkeeperError as exc:  # a library-only series has no source to ask
        console.print(f"[yellow]not refreshed:[/] {exc}", highlight=False, soft_wrap=True)
        return
    for error in summary.errors.values():
        console.print(f"[yellow]refresh failed:[/] {error}", highlight=False, soft_wrap=True)


async def download_series(
    ctx: AppContext, series_key: str, *, missing: bool = True, concurrency: int | None = None
) -> DownloadRun:
    """Queue the series' missing episodes (or all not on disk) and download them here, with
    a line per finished episode (and live bars on a terminal)."""
    import time

    from showkeeper.cli.download_view import EVENT_TYPES, DownloadRun, DownloadView
    from showkeeper.cli.progress import following_events
    from showkeeper.downloads import control, foreground, service

    state = await control.get_state(ctx.db)
    if state != "running":
        raise ShowkeeperError(f"the queue is {state}; run `showkeeper queue resume` first")
    await service.enqueue_series(ctx, series_key, missing=missing)
    item_ids = await foreground.active_items_of_series(ctx, series_key)
    if not item_ids:
        console.print(f"nothing to download for {series_key}", highlight=False)
        return DownloadRun()
    began = time.monotonic()
    with DownloadView(console.get(), await foreground.item_views(ctx, item_ids)) as view:
        async with following_events(ctx.bus, set(EVENT_TYPES), view.handle):
            statuses = await foreground.run_until_finished(
                ctx, item_ids, concurrency=concurrency, on_poll=view.sync
            )
        ended = await foreground.item_views(ctx, item_ids)
        view.report_unseen(ended)
    size = sum(v.size or 0 for v in ended.values() if v.status == "completed")
    return DownloadRun(statuses, size=size, seconds=time.monotonic() - began)


def print_results(run: DownloadRun) -> None:
    """The summary line; exit 1 when a download failed."""
    console.print(run.summary(), highlight=False)
    if run.failed:
        raise fail(f"{run.failed} download(s) failed; see `showkeeper queue ls`")


async def _worker(settings: Settings, concurrency: int | None) -> None:
    from showkeeper.context import open_context
    from showkeeper.downloads.worker import WorkerPool
    from showkeeper.logging import get_logger
    from showkeeper.services import download_companions

    log = get_logger("showkeeper.worker")
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with open_context(settings, services=download_companions) as ctx:
        pool = WorkerPool(ctx, concurrency=concurrency)
        await pool.start()
        ctx.services.append(pool)  # closed (leases released) with the context
        log.info("worker running; stop it with SIGTERM or Ctrl-C", owner=pool.owner)
        await stop.wait()
        log.info("worker stopping", owner=pool.owner)
