"""The settings as the Settings page shows them: grouped, each with its value, where the value
comes from (environment, config file, default) and whether a change needs a restart."""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass, field
from typing import Any

from pydantic import SecretStr

from showkeeper.config import NOT_STORABLE, Settings, env_name
from showkeeper.web.config_apply import RESTART_REQUIRED, SECRET_FIELDS

GROUPS: list[tuple[str, str, tuple[str, ...]]] = [
    ("library", "Library", ("library_dir", "max_resolution")),
    (
        "downloads",
        "Downloads",
        (
            "download_concurrency",
            "download_per_host_concurrency",
            "download_per_host_delay_s",
            "download_host_recovery_s",
            "download_connections",
            "download_max_attempts",
            "download_retry_base_s",
            "download_retry_max_s",
            "download_lease_s",
            "download_workers_in_server",
        ),
    ),
    (
        "sources",
        "Sources",
        (
            "source_refresh_concurrency",
            "source_per_host_concurrency",
            "source_timeout_s",
            "source_max_response_mb",
            "allowed_private_networks",
            "itunes_search_url",
        ),
    ),
    (
        "scheduler",
        "Scheduler",
        (
            "scheduler_enabled",
            "scheduler_time",
            "scheduler_weekdays",
            "scheduler_timezone",
            "scheduler_catchup_grace_min",
            "source_refresh_interval_min",
            "auto_download",
        ),
    ),
    ("metadata", "Metadata", ("tmdb_api_key", "tmdb_base_url")),
    (
        "notifications",
        "Notifications",
        ("notification_urls", "notify_on_complete", "notify_on_new_episodes"),
    ),
    (
        "security",
        "Security",
        (
            "session_ttl_hours",
            "token_ttl_hours",
            "login_max_failures",
            "login_account_max_failures",
            "login_lockout_s",
            "cookie_secure",
            "trusted_proxies",
            "metrics_public",
        ),
    ),
    (
        "server",
        "Server",
        (
            "host",
            "port",
            "database_url",
            "data_dir",
            "log_level",
            "log_format",
            "config_backups_keep",
        ),
    ),
]


@dataclass
class FieldView:
    name: str
    label: str
    description: str
    accepted: str | None
    kind: str  # bool, int, float, list, secret, text
    value: Any
    source: str  # environment, config file, default
    restart: bool
    read_only: bool
    note: str | None = None


@dataclass
class GroupView:
    id: str
    title: str
    fields: list[FieldView] = field(default_factory=list)


def _kind(name: str, annotation: Any) -> str:
    if name in SECRET_FIELDS:
        return "secret"
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    base = annotation
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        base = args[0] if len(args) == 1 else annotation
    base = typing.get_args(base)[0] if typing.get_origin(base) is typing.Annotated else base
    if base is bool:
        return "bool"
    if base is int:
        return "int"
    if base is float:
        return "float"
    if typing.get_origin(base) is list:
        return "list"
    return "text"


_UNITS = {"_s": " (seconds)", "_min": " (minutes)", "_mb": " (MB)", "_hours": " (hours)"}


def _label(name: str) -> str:
    for suffix, unit in _UNITS.items():
        if name.endswith(suffix):
            return name.removesuffix(suffix).replace("_", " ").capitalize() + unit
    return name.replace("_", " ").capitalize().replace("Tmdb", "TMDB").replace(" url", " URL")


def _display(value: Any, kind: str) -> Any:
    if isinstance(value, SecretStr):
        return ""
    if kind == "list":
        return ", ".join(str(v) for v in value or [])
    if value is None:
        return ""
    return value


def describe(settings: Settings, stored: dict[str, Any]) -> list[GroupView]:
    """Every setting, grouped; secrets are never shown (an empty field keeps them)."""
    listed = {name for _, _, names in GROUPS for name in names}
    groups = [(gid, title, names) for gid, title, names in GROUPS]
    rest = tuple(n for n in Settings.model_fields if n not in listed)
    if rest:
        groups.append(("other", "Other", rest))
    out = []
    for gid, title, names in groups:
        group = GroupView(gid, title)
        for name in names:
            info = Settings.model_fields.get(name)
            if info is None:
                continue
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            kind = _kind(name, info.annotation)
            in_env = env_name(name) in os.environ
            source = "environment" if in_env else "config file" if name in stored else "default"
            note = None
            if in_env:
                note = f"Set by {env_name(name)}; change it there and restart."
            elif name in NOT_STORABLE:
                note = f"Set {env_name(name)} to change it (needs a restart)."
            secret_set = kind == "secret" and bool(getattr(settings, name))
            group.fields.append(
                FieldView(
                    name=name,
                    label=_label(name),
                    description=info.description or "",
                    accepted=str(extra.get("accepted")) if extra.get("accepted") else None,
                    kind=kind,
                    value=_display(getattr(settings, name), kind),
                    source=source + (" (set)" if secret_set else ""),
                    restart=name in RESTART_REQUIRED or name in NOT_STORABLE,
                    read_only=in_env or name in NOT_STORABLE,
                    note=note,
                )
            )
        out.append(group)
    return out
