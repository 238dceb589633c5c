"""The `showkeeper` command. Each feature adds its commands in its own module here.

Command modules import only typer and the standard library at module level (see base.py),
so `showkeeper --help` does not load the server, the database or the download engine.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from showkeeper import __version__

if TYPE_CHECKING:
    import typer


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # answered before typer (and all commands) load
        print(f"showkeeper {__version__}")
        return
    app = build_app()
    app()


def build_app() -> typer.Typer:
    """The Typer app with every command group registered."""
    from showkeeper.cli import (
        auth_cmd,
        config_cmd,
        db_cmd,
        demo_cmd,
        doctor,
        fetch_cmd,
        get_cmd,
        library_cmd,
        nfo_cmd,
        queue_cmd,
        rename_cmd,
        retention_cmd,
        series_cmd,
        serve,
        sources_cmd,
    )
    from showkeeper.cli.base import app

    if not app.registered_commands:
        for module in (
            serve,
            db_cmd,
            config_cmd,
            doctor,
            fetch_cmd,
            series_cmd,
            sources_cmd,
            get_cmd,
            queue_cmd,
            library_cmd,
            rename_cmd,
            retention_cmd,
            auth_cmd,
            demo_cmd,
            nfo_cmd,
        ):
            module.register(app)
    return app


def __getattr__(name: str) -> object:
    """`from showkeeper.cli import app` (tests, typer's CliRunner) builds the app."""
    if name == "app":
        return build_app()
    raise AttributeError(name)


__all__ = ["app", "build_app", "main"]
