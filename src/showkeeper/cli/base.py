"""Shared CLI pieces: the Typer app, consoles, settings loading and error handling.

Start-up time matters (`showkeeper --help` should feel instant): command modules import
only typer and the standard library at module level; everything else (settings, the
database, rich's widgets, the engine) is imported inside the command that uses it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

from showkeeper import __version__
from showkeeper.errors import ShowkeeperError

if TYPE_CHECKING:
    from rich.console import Console

    from showkeeper.config import Settings

P = ParamSpec("P")
T = TypeVar("T")


SourceUrlArg = Annotated[str, typer.Argument(help="Feed, channel/playlist or directory URL.")]
SeriesOpt = Annotated[
    str | None,
    typer.Option(
        "--series", help="Only this series (key, folder or unique prefix).", show_default=False
    ),
]
KindOpt = Annotated[
    str | None, typer.Option("--kind", help="feed, ytdlp or httpdir (detected when omitted).")
]


class _LazyConsole:
    """A rich Console made on first use (importing rich costs start-up time)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def get(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)


console: Any = _LazyConsole(stderr=False)
err_console: Any = _LazyConsole(stderr=True)


def _version(value: bool) -> None:
    if value:
        print(f"showkeeper {__version__}")
        raise typer.Exit()


app = typer.Typer(
    name="showkeeper",
    help="Keeps a local library of episodic video complete.",
    epilog=(
        "Exit codes: 0 done; 1 failed (the message says why); 2 usage error, or a series "
        "or item that was not found (or is ambiguous). A series can be named by its key, its "
        "folder name, or a unique prefix of its key or name."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
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


def group(app: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The sub-command group ``name``, shared with other modules that add to it."""
    for info in app.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    sub = typer.Typer(help=help_text, no_args_is_help=True)
    app.add_typer(sub, name=name)
    return sub


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    from showkeeper.config import load_settings

    obj = ctx.find_root().obj or {}
    if obj.get("data_dir") is not None:
        overrides.setdefault("data_dir", obj["data_dir"])
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


def cli_logging(settings: Settings, *, console_level: str = "WARNING") -> None:
    """Log to data_dir/logs at log_level; the terminal shows only console_level and above
    ("OFF": nothing), printed above any progress bars, without internal ids (worker owners,
    item ids: the file keeps them)."""
    from showkeeper.logging import INTERNAL_KEYS, setup_logging

    try:
        setup_logging(
            settings.log_level,
            logs_dir=settings.logs_dir,
            console_format=settings.log_format,
            console_level=console_level,
            console_hidden_keys=INTERNAL_KEYS,
        )
    except OSError:  # no log file (data_dir not writable): the command says why itself
        setup_logging(
            settings.log_level, console_level=console_level, console_hidden_keys=INTERNAL_KEYS
        )


def failed_add(error: str, key: str) -> str:
    """What a CLI says when adding a series failed at its source (it is recorded failed)."""
    return (
        f"{error} (series {key} is recorded as failed: run the same command once fixed, "
        f"or `showkeeper series rm {key}`)"
    )


def fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def handle_errors(func: Callable[P, T]) -> Callable[P, T]:
    """Turn a ShowkeeperError into one line on stderr and its exit code, no traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except ShowkeeperError as exc:
            raise fail(str(exc), exc.exit_code) from None
        except KeyboardInterrupt:
            raise fail("interrupted", 130) from None

    return wrapper


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    import asyncio

    return asyncio.run(coro)
