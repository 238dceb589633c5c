"""The `showkeeper` command. Each feature adds its commands in its own module here."""

from __future__ import annotations

from showkeeper.cli import (
    config_cmd,
    db_cmd,
    doctor,
    fetch_cmd,
    library_cmd,
    queue_cmd,
    serve,
    sources_cmd,
)
from showkeeper.cli.base import app

for module in (serve, db_cmd, config_cmd, doctor, fetch_cmd, sources_cmd, queue_cmd, library_cmd):
    module.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
