"""`showkeeper auth reset-password`: the server owner's way back in after a lost password."""

from __future__ import annotations

from typing import Annotated

import typer

from showkeeper.cli.base import console, handle_errors, run_async, settings_from


def register(app: typer.Typer) -> None:
    auth_app = typer.Typer(help="The master password.", no_args_is_help=True)
    app.add_typer(auth_app, name="auth")

    @auth_app.command("reset-password")
    @handle_errors
    def reset_password(
        ctx: typer.Context,
        password: Annotated[
            str,
            typer.Option(
                prompt="New master password",
                hide_input=True,
                confirmation_prompt=True,
                help="The new password (asked for when not given).",
            ),
        ],
    ) -> None:
        """Set a new master password; every session and bearer token is revoked.

        It needs the data folder (the database), so only the server's owner can run it.
        """
        from datetime import UTC, datetime

        from showkeeper.auth.account import reset_password as reset
        from showkeeper.context import prepare_storage

        async def run() -> int:
            db = await prepare_storage(settings_from(ctx))
            try:
                return await reset(db, new=password, now=datetime.now(UTC))
            finally:
                await db.dispose()

        revoked = run_async(run())
        console.print(f"password changed; {revoked} sessions and tokens revoked: log in again")
