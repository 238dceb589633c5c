"""The `showkeeper` command. Each feature adds its commands in its own module here.

Command modules import only typer and the standard library at module level (see base.py),
so `showkeeper --help` does not load the server, the database or the download engine.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, NoReturn

from showkeeper import __version__

if TYPE_CHECKING:
    import typer


def main() -> None:
    if sys.argv[1:] == ["--version"]:  # answered before typer (and all commands) load
        print(f"showkeeper {__version__}")
        return
    app = build_app()
    try:
        app()
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code: object) -> NoReturn:
    """End the process without tearing the interpreter down.

    By now the command has closed what it opened (its context, the database, its files);
    the exit handlers still run (log handlers flush, temporary files go). What is skipped is
    freeing every loaded module's objects one by one: about 0.2 s of a short command such
    as a `showkeeper get` with nothing new.
    """
    import atexit
    import os

    if isinstance(code, str):  # sys.exit("message") prints it and means failure
        print(code, file=sys.stderr)
        code = 1
    status = code if isinstance(code, int) else 0 if code is None else 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said there
            status = status or 1
    os._exit(status)


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
