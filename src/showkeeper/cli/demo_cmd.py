"""`showkeeper demo`: the whole flow with sample sources served on 127.0.0.1, no network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from showkeeper.cli.base import handle_errors, run_async


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def demo(
        port: Annotated[
            int, typer.Option(help="Port of the demo server.", min=1, max=65535)
        ] = 8000,
        data_dir: Annotated[
            Path, typer.Option(help="Where the demo keeps its database, media and library.")
        ] = Path("./demo-data"),
    ) -> None:
        """Run a demo: sample series (a feed, HLS, a directory) served locally, setup done."""
        from showkeeper.demo.run import serve_demo

        def say(text: str) -> None:
            typer.echo(text)

        try:
            run_async(serve_demo(data_dir, port, say))
        except KeyboardInterrupt:
            typer.echo("demo stopped")
