"""`showkeeper config show|set|unset|validate|backups|restore`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer

from showkeeper.cli.base import console, fail, handle_errors, settings_from

if TYPE_CHECKING:
    from showkeeper.config import Settings
    from showkeeper.config_store import ConfigStore


def _store(settings: Settings) -> ConfigStore:
    from showkeeper.config_store import ConfigStore

    return ConfigStore(settings.data_dir, keep=settings.config_backups_keep)


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Show and change settings (config.json).", no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("show")
    @handle_errors
    def show(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Print the effective settings (secrets masked)."""
        from rich.table import Table

        from showkeeper.config import public_view

        view = public_view(settings_from(ctx))
        if as_json:
            console.print_json(json.dumps(view))
            return
        table = Table("setting", "value")
        for key, value in view.items():
            table.add_row(key, json.dumps(value) if not isinstance(value, str) else value)
        console.print(table)

    @config_app.command("set")
    @handle_errors
    def set_(ctx: typer.Context, key: str, value: str) -> None:
        """Set KEY to VALUE in config.json (validated; the old file is backed up)."""
        from showkeeper.config import Settings, SettingsError, parse_text_value

        store = _store(settings_from(ctx))
        try:  # validated as every writer is, with the same message
            backup = store.set(key, parse_text_value(key, value))
        except SettingsError as exc:  # an unknown name is a usage error (exit 2)
            raise fail(str(exc), 1 if key in Settings.model_fields else 2) from None
        note = f" (backup {backup.name})" if backup else ""
        console.print(f"{key} saved to {store.path}{note}")

    @config_app.command("unset")
    @handle_errors
    def unset(ctx: typer.Context, key: str) -> None:
        """Remove KEY from config.json, back to its default."""
        store = _store(settings_from(ctx))
        store.unset(key)
        console.print(f"{key} removed from {store.path}")

    @config_app.command("validate")
    @handle_errors
    def validate(ctx: typer.Context) -> None:
        """Check the environment, .env and config.json; exit 1 with the cause if invalid."""
        settings = settings_from(ctx)
        console.print(f"settings are valid ({settings.config_path})")

    @config_app.command("backups")
    @handle_errors
    def backups(ctx: typer.Context) -> None:
        """List config.json backups, newest first."""
        from rich.table import Table

        found = _store(_restore_settings(ctx)).list_backups()
        if not found:
            console.print("no backups yet")
            return
        table = Table("name", "created (UTC)", "bytes")
        for b in found:
            table.add_row(b.name, b.created_at.strftime("%Y-%m-%d %H:%M:%S"), str(b.size))
        console.print(table)

    @config_app.command("restore")
    @handle_errors
    def restore(ctx: typer.Context, name: str) -> None:
        """Make backup NAME the current config.json (the current one is backed up)."""
        data_dir_settings = _restore_settings(ctx)
        store = _store(data_dir_settings)
        store.restore(name)
        console.print(f"restored {name} to {store.path}")


def _restore_settings(ctx: typer.Context) -> Settings:
    """Restore must work when config.json itself is broken, so it ignores that file."""
    from showkeeper.config import Settings, _bootstrap_data_dir

    obj = ctx.find_root().obj or {}
    data_dir = obj.get("data_dir") or _bootstrap_data_dir(".env")
    return Settings(_env_file=None, data_dir=data_dir)
