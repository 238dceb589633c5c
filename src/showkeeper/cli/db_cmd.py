"""`showkeeper db ...`."""

from __future__ import annotations

import typer

from showkeeper.cli.base import console, handle_errors, run_async, settings_from


async def _upgrade(url: str) -> set[str]:
    from showkeeper.db import Database
    from showkeeper.db.migrate import upgrade

    db = Database(url)
    try:
        await db.check()
        return await upgrade(db)
    finally:
        await db.dispose()


def register(app: typer.Typer) -> None:
    db_app = typer.Typer(help="Database maintenance.", no_args_is_help=True)
    app.add_typer(db_app, name="db")

    @db_app.command("upgrade")
    @handle_errors
    def db_upgrade(ctx: typer.Context) -> None:
        """Apply all database migrations (start-up does this too)."""
        from showkeeper.context import ensure_writable_dir

        settings = settings_from(ctx)
        if settings.is_sqlite:
            ensure_writable_dir(settings.data_dir, "data_dir")
        revisions = run_async(_upgrade(settings.database_url))
        console.print(f"database at revision {', '.join(sorted(revisions))}")
