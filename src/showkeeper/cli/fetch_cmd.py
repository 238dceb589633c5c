"""`showkeeper fetch URL -o PATH`: one media URL through the download engine, with a bar."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from showkeeper.cli.base import (
    cli_logging,
    console,
    err_console,
    fail,
    handle_errors,
    run_async,
    settings_from,
)

if TYPE_CHECKING:
    from rich.progress import Progress

    from showkeeper.config import Settings
    from showkeeper.domain.candidates import CandidateKind
    from showkeeper.downloads.transfer import TransferProgress


async def _fetch(
    url: str, dest: Path, kind: CandidateKind, settings: Settings, progress: Progress
) -> tuple[Path, int, str]:
    from rich import filesize

    from showkeeper.domain.candidates import Candidate
    from showkeeper.downloads.engine import download
    from showkeeper.net import HttpClient

    task = progress.add_task(dest.name, total=None, rate="", eta="")

    def on_progress(report: TransferProgress) -> None:
        eta = (
            ""
            if report.eta_s is None
            else f"eta {int(report.eta_s) // 60}:{int(report.eta_s) % 60:02d}"
        )
        progress.update(
            task,
            completed=report.downloaded_bytes,
            total=report.total_bytes,
            rate=f"{filesize.decimal(int(report.speed_bps))}/s",
            eta=eta,
        )

    per_host = max(8, 2 * settings.download_connections)
    async with HttpClient(
        allowed_networks=settings.allowed_private_networks, per_host_limit=per_host
    ) as client:
        result = await download(
            [Candidate(url=url, kind=kind)],
            dest,
            client=client,
            settings=settings,
            on_progress=on_progress,
            label=dest.name,
        )
    progress.update(task, completed=result.size, total=result.size)
    return result.path, result.size, result.method


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def fetch(
        ctx: typer.Context,
        url: Annotated[
            str, typer.Argument(help="A media URL: a file, an .m3u8 playlist or a page.")
        ],
        output: Annotated[Path, typer.Option("--output", "-o", help="Where to save the file.")],
        kind: Annotated[
            str, typer.Option(help="direct, hls or page; guessed from the URL when omitted.")
        ] = "",
    ) -> None:
        """Download one URL like curl or yt-dlp would: resumable, verified, atomic."""
        chosen = kind or ("hls" if ".m3u8" in url.split("?", 1)[0].lower() else "direct")
        if chosen not in ("direct", "hls", "page"):
            raise fail(f"--kind must be direct, hls or page, not {kind!r}", 2)
        dest = output.expanduser().absolute()
        if dest.is_dir() or not dest.name:
            raise fail(f"{output} is a directory; give a file name with -o", 2)
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

        from showkeeper.domain.paths import UnsafePathError

        settings = settings_from(ctx)
        # log lines go to data_dir/logs only: the console shows the bar and one result line
        cli_logging(settings, console_level="OFF")
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("{task.fields[rate]}"),
            TextColumn("{task.fields[eta]}"),
            console=err_console.get(),
            transient=True,
        )
        try:
            with progress:
                path, size, method = run_async(
                    _fetch(url, dest, chosen, settings, progress)  # type: ignore[arg-type]
                )
        except UnsafePathError as exc:
            raise fail(str(exc)) from None
        console.print(f"saved {path} ({size} bytes, {method})", highlight=False)
