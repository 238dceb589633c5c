"""`showkeeper serve`."""

from __future__ import annotations

import errno
import socket
from types import FrameType
from typing import TYPE_CHECKING, Annotated

import typer

from showkeeper.cli.base import handle_errors, run_async, settings_from
from showkeeper.errors import StartupError

if TYPE_CHECKING:
    import uvicorn

    from showkeeper.config import Settings


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind before anything starts, so a taken port is one clear line, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use; stop the other server "
                "or choose another port with --port / SHOWKEEPER_PORT"
            ) from None
        raise StartupError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _server(config: uvicorn.Config) -> uvicorn.Server:
    import uvicorn

    class _Server(uvicorn.Server):
        """A SIGINT/SIGTERM asks for a graceful stop; once done, the exit status is 0."""

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # uvicorn re-raises captured signals after shutdown; our stop was the clean one.
            self._captured_signals.clear()

    return _Server(config)


async def _preflight(settings: Settings) -> None:
    from showkeeper.context import prepare_storage

    # a new database is migrated by a child process: the server never holds Alembic
    db = await prepare_storage(settings, migrate_in_child=True)
    await db.dispose()


def serve_forever(settings: Settings) -> None:
    from showkeeper.context import ensure_writable_dir
    from showkeeper.logging import get_logger, setup_logging

    ensure_writable_dir(settings.data_dir, "data_dir")  # before the log file is opened there
    setup_logging(
        settings.log_level, logs_dir=settings.logs_dir, console_format=settings.log_format
    )
    run_async(_preflight(settings))
    # the web app and uvicorn load after the preflight: a migration's child process then runs
    # beside a small parent, so the two together stay under the server's own later peak
    import uvicorn

    from showkeeper.web.app import create_app

    sock = bind_socket(settings.host, settings.port)
    config = uvicorn.Config(
        create_app(settings),
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=10,
        # X-Forwarded-* are believed only from trusted_proxies, in web/security.py; uvicorn's
        # own handling would trust 127.0.0.1 and rewrite the client address and scheme
        proxy_headers=False,
        server_header=False,
        ws="websockets-sansio",
        # live events are small and go to many clients: compressing each one per
        # connection costs more CPU (and latency) than the bytes it saves
        ws_per_message_deflate=False,
    )
    get_logger(__name__).info("listening", url=f"http://{settings.host}:{settings.port}")
    _server(config).run(sockets=[sock])


def register(app: typer.Typer) -> None:
    @app.command()
    @handle_errors
    def serve(
        ctx: typer.Context,
        host: Annotated[str | None, typer.Option(help="Overrides SHOWKEEPER_HOST.")] = None,
        port: Annotated[int | None, typer.Option(help="Overrides SHOWKEEPER_PORT.")] = None,
    ) -> None:
        """Run the server (web UI, REST API, WebSocket, background services)."""
        serve_forever(settings_from(ctx, host=host, port=port))
