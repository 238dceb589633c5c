"""The `showkeeper` command. Each feature adds its commands in its own module here."""

from __future__ import annotations

from showkeeper.cli import config_cmd, db_cmd, doctor, serve
from showkeeper.cli.base import app

for module in (serve, db_cmd, config_cmd, doctor):
    module.register(app)


def main() -> None:
    app()


__all__ = ["app", "main"]
