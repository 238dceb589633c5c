"""Shared CLI pieces: the Typer app, consoles, settings loading and error handling."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from showkeeper import __version__
from showkeeper.config import Settings, load_settings
from showkeeper.errors import ShowkeeperError

P = ParamSpec("P")
T = TypeVar("T")

console = Console()
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"showkeeper {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="showkeeper",
    help="Keeps a local library of episodic video complete.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Overrides SHOWKEEPER_DATA_DIR.")
    ] = None,
) -> None:
    ctx.obj = {"data_dir": data_dir}


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    obj = ctx.find_root().obj or {}
    if obj.get("data_dir") is not None:
        overrides.setdefault("data_dir", obj["data_dir"])
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn a ShowkeeperError into one line on stderr and exit code 1, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except ShowkeeperError as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
