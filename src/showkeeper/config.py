"""Settings: environment > .env > <data_dir>/config.json > defaults.

One pydantic-settings class. An invalid value stops start-up with one line naming
the key, the bad value and what is accepted (see :func:`load_settings`).
"""

from __future__ import annotations

import contextvars
import ipaddress
import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from showkeeper.errors import ShowkeeperError

ENV_PREFIX = "SHOWKEEPER_"
CONFIG_FILE_NAME = "config.json"

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# The values of config.json for the Settings being built right now; set by load_settings.
_config_json: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "showkeeper_config_json", default=None
)


class SettingsError(ShowkeeperError):
    """A setting is invalid or the config file cannot be used; the message is one line."""


def _accepted(text: str) -> dict[str, Any]:
    return {"accepted": text}


def _split_list(value: Any) -> Any:
    """Accept a JSON list, a comma-separated string, or a list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting of showkeeper, with its default and what it accepts."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    data_dir: Path = Field(
        Path("./data"),
        description="Where showkeeper keeps its database, config.json, logs and state.",
        json_schema_extra=_accepted("a writable directory path"),
    )
    library_dir: Path | None = Field(
        None,
        description="The library root: one folder per series. Unset until setup.",
        json_schema_extra=_accepted("a directory path"),
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means the SQLite file <data_dir>/showkeeper.db.",
        json_schema_extra=_accepted(
            "sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB"
        ),
    )
    host: str = Field(
        "127.0.0.1",
        description="Address the server listens on.",
        json_schema_extra=_accepted("an IP address or host name"),
    )
    port: int = Field(
        8000,
        ge=1,
        le=65535,
        description="Port the server listens on.",
        json_schema_extra=_accepted("an integer from 1 to 65535"),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO",
        description="Lowest level written to the console and the log file.",
        json_schema_extra=_accepted("DEBUG, INFO, WARNING or ERROR"),
    )
    log_format: Literal["console", "json"] = Field(
        "console",
        description="Console log format (the file under data_dir/logs is always JSON lines).",
        json_schema_extra=_accepted("console or json"),
    )
    download_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description=(
            "Downloads running at once, over all sources: two hosts at their per-host default."
        ),
        json_schema_extra=_accepted("an integer from 1 to 64"),
    )
    download_per_host_concurrency: int = Field(
        4,
        ge=1,
        le=32,
        description=(
            "Downloads running at once from one source host. Media hosts serve several "
            "streams at once, and politeness is automatic: a host that answers 429 or 503 "
            "(or keeps timing out) gets its limit halved and its Retry-After honoured, then "
            "the limit grows back (see download_host_recovery_s). A host's own limit "
            "(`showkeeper queue host`) always wins."
        ),
        json_schema_extra=_accepted("an integer from 1 to 32"),
    )
    download_per_host_delay_s: float = Field(
        0.0,
        ge=0,
        le=3600,
        description=(
            "Minimum seconds between downloads from one host: after one starts or finishes, "
            "the next one from that host waits this long."
        ),
        json_schema_extra=_accepted("a number of seconds from 0 to 3600"),
    )
    download_host_recovery_s: float = Field(
        30.0,
        ge=0.1,
        le=3600,
        description=(
            "After a host's limit was halved (429, 503 or repeated timeouts), it grows back by "
            "one download per this many seconds without another such answer, counted from the "
            "end of the server's Retry-After (5 s when it gives none)."
        ),
        json_schema_extra=_accepted("a number of seconds from 0.1 to 3600"),
    )
    download_max_attempts: int = Field(
        5,
        ge=1,
        le=50,
        description="Attempts per queue item before it stays failed.",
        json_schema_extra=_accepted("an integer from 1 to 50"),
    )
    download_retry_base_s: float = Field(
        30.0,
        ge=0,
        le=86400,
        description="Wait before retrying a failed download; doubles with each attempt.",
        json_schema_extra=_accepted("a number of seconds from 0 to 86400"),
    )
    download_retry_max_s: float = Field(
        3600.0,
        ge=0,
        le=604800,
        description="Longest wait between two attempts of one download.",
        json_schema_extra=_accepted("a number of seconds from 0 to 604800"),
    )
    download_lease_s: float = Field(
        60.0,
        ge=1,
        le=3600,
        description=(
            "How long a worker's claim on a download lasts without a heartbeat; after a crash "
            "the item is queued again once it expires."
        ),
        json_schema_extra=_accepted("a number of seconds from 1 to 3600"),
    )
    download_workers_in_server: bool = Field(
        True,
        description=(
            "Run download workers inside the server; false for an API-only process beside "
            "`showkeeper worker` processes."
        ),
        json_schema_extra=_accepted("true or false"),
    )
    download_connections: int = Field(
        8,
        ge=1,
        le=32,
        description="Ranged connections for one large direct download; an HLS download keeps "
        "twice this many segments in flight.",
        json_schema_extra=_accepted("an integer from 1 to 32"),
    )
    disk_reserve_gib: float = Field(
        5.0,
        ge=0,
        le=100000,
        description=(
            "Free space to keep on the library's file system: a download that would leave less "
            "pauses the queue until space returns."
        ),
        json_schema_extra=_accepted("a number of GiB from 0 to 100000"),
    )
    import_dirs: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders outside the library that manual imports may copy or move files from.",
        json_schema_extra=_accepted("a comma-separated list of absolute directory paths"),
    )
    max_resolution: int = Field(
        1080,
        ge=144,
        le=4320,
        description="Highest video height chosen from an HLS master playlist.",
        json_schema_extra=_accepted("a height in pixels from 144 to 4320"),
    )
    scheduler_enabled: bool = Field(
        True,
        description="Run the daily rescan and periodic source refresh.",
        json_schema_extra=_accepted("true or false"),
    )
    scheduler_time: str = Field(
        "03:00",
        description="Time of day of the daily rescan, in scheduler_timezone.",
        json_schema_extra=_accepted("HH:MM, 24-hour"),
    )
    scheduler_weekdays: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(WEEKDAYS),
        description="Days on which the daily rescan runs.",
        json_schema_extra=_accepted("a comma-separated list of mon,tue,wed,thu,fri,sat,sun"),
    )
    scheduler_timezone: str = Field(
        "UTC",
        description="Time zone of scheduler_time.",
        json_schema_extra=_accepted("an IANA time zone such as UTC or Europe/Berlin"),
    )
    source_refresh_interval_min: int = Field(
        360,
        ge=5,
        le=10080,
        description="Minutes between two refreshes of all sources.",
        json_schema_extra=_accepted("an integer from 5 to 10080"),
    )
    source_refresh_concurrency: int = Field(
        48,
        ge=1,
        le=256,
        description="Sources fetched at once during a refresh, over all hosts.",
        json_schema_extra=_accepted("an integer from 1 to 256"),
    )
    source_per_host_concurrency: int = Field(
        4,
        ge=1,
        le=256,
        description="Sources fetched at once from one host during a refresh.",
        json_schema_extra=_accepted("an integer from 1 to 256"),
    )
    source_timeout_s: float = Field(
        30.0,
        ge=0.1,
        le=600,
        description="Seconds a source fetch may wait for data (a whole fetch gets four times that).",
        json_schema_extra=_accepted("a number of seconds from 0.1 to 600"),
    )
    source_max_response_mb: int = Field(
        20,
        ge=1,
        le=1024,
        description="Largest feed, listing or API answer a source reads, in MiB.",
        json_schema_extra=_accepted("an integer from 1 to 1024"),
    )
    tmdb_api_key: SecretStr | None = Field(
        None,
        description="TMDB credentials for metadata and artwork (optional; without them the "
        "sources' own metadata is used).",
        json_schema_extra=_accepted("a TMDB v3 API key or a v4 read access token"),
    )
    tmdb_base_url: str = Field(
        "https://api.themoviedb.org/3",
        description="Base URL of the TMDB API.",
        json_schema_extra=_accepted("an http(s) URL"),
    )
    metadata_language: str = Field(
        "en-US",
        description="Language of titles, plots and artwork asked from TMDB.",
        json_schema_extra=_accepted("a language tag such as en-US, de-DE or fr"),
    )
    artwork_max_mb: int = Field(
        20,
        ge=1,
        le=200,
        description="Largest artwork image (poster, fanart, logo, thumb) written, in MiB.",
        json_schema_extra=_accepted("an integer from 1 to 200"),
    )
    metadata_concurrency: int = Field(
        8,
        ge=1,
        le=64,
        description="Series whose metadata and artwork load at once.",
        json_schema_extra=_accepted("an integer from 1 to 64"),
    )
    itunes_search_url: str = Field(
        "https://itunes.apple.com/search",
        description="Base URL of the podcast directory search (iTunes Search API shape).",
        json_schema_extra=_accepted("an http(s) URL"),
    )
    trusted_proxies: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="Proxies whose X-Forwarded-For is believed.",
        json_schema_extra=_accepted("a comma-separated list of IP addresses or networks"),
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Host names this server answers to (the Host header); any other gets 400. Empty: "
            "the address it listens on; localhost, 127.0.0.1 and [::1] always. `*.example.org` allows "
            "subdomains; `*` allows any (only behind a proxy that checks Host itself)."
        ),
        json_schema_extra=_accepted(
            "a comma-separated list of host names or addresses, *.domain, or *"
        ),
    )
    session_ttl_hours: int = Field(
        168,
        ge=1,
        le=8760,
        description="Lifetime of a browser login session (the session cookie).",
        json_schema_extra=_accepted("an integer from 1 to 8760"),
    )
    token_ttl_hours: int = Field(
        720,
        ge=1,
        le=8760,
        description="Lifetime of a bearer token returned by POST /api/auth/login.",
        json_schema_extra=_accepted("an integer from 1 to 8760"),
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        le=1000,
        description="Failed logins from one client address before it must wait login_lockout_s.",
        json_schema_extra=_accepted("an integer from 1 to 1000"),
    )
    login_account_max_failures: int = Field(
        20,
        ge=1,
        le=10000,
        description="Failed logins for one account, from anywhere, before it must wait login_lockout_s.",
        json_schema_extra=_accepted("an integer from 1 to 10000"),
    )
    login_lockout_s: int = Field(
        300,
        ge=1,
        le=86400,
        description="Window for counting failed logins, and the wait once a limit is reached.",
        json_schema_extra=_accepted("a number of seconds from 1 to 86400"),
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Secure flag of the session cookie; auto sets it when the request came over https.",
        json_schema_extra=_accepted("auto, always or never"),
    )
    scheduler_catchup_grace_min: int = Field(
        360,
        ge=0,
        le=10080,
        description="A daily rescan missed while the server was down runs at start if it is at most this late.",
        json_schema_extra=_accepted("an integer from 0 to 10080 (0: never catch up)"),
    )
    auto_download: bool = Field(
        True,
        description="Queue missing episodes after each scheduled rescan and source refresh (at most every 5 minutes).",
        json_schema_extra=_accepted("true or false"),
    )
    allowed_private_networks: Annotated[list[IPNetwork], NoDecode] = Field(
        default_factory=list,
        description="Private/loopback networks that sources may be fetched from.",
        json_schema_extra=_accepted("a comma-separated list of networks such as 192.168.1.0/24"),
    )
    config_backups_keep: int = Field(
        10,
        ge=1,
        le=1000,
        description="How many timestamped backups of config.json are kept.",
        json_schema_extra=_accepted("an integer from 1 to 1000"),
    )
    metrics_public: bool = Field(
        False,
        description="Serve /metrics without the API key.",
        json_schema_extra=_accepted("true or false"),
    )
    notification_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Apprise URLs that receive notifications.",
        json_schema_extra=_accepted("a comma-separated list of apprise URLs"),
    )
    notify_on_complete: bool = Field(
        False,
        description="Notify when a download completes.",
        json_schema_extra=_accepted("true or false"),
    )
    notify_on_new_episodes: bool = Field(
        True,
        description="Notify when a refresh finds new episodes.",
        json_schema_extra=_accepted("true or false"),
    )

    @field_validator("data_dir", "library_dir", mode="after")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else Path(os.path.expanduser(value))

    @field_validator("host")
    @classmethod
    def _check_host(cls, value: str) -> str:
        value = value.strip()
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not re.fullmatch(r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
                raise ValueError("not an IP address or host name") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        if value.startswith(("postgresql://", "postgres://")):
            value = "postgresql+asyncpg://" + value.split("://", 1)[1]
        if value.startswith("sqlite://") and not value.startswith("sqlite+aiosqlite://"):
            value = "sqlite+aiosqlite://" + value.split("://", 1)[1]
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("unsupported database")
        return value

    @field_validator("scheduler_time")
    @classmethod
    def _check_time(cls, value: str) -> str:
        match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", value.strip())
        if not match:
            raise ValueError("not a time of day")
        return f"{int(match.group(1)):02d}:{match.group(2)}"

    @field_validator("scheduler_weekdays", mode="before")
    @classmethod
    def _parse_weekdays(cls, value: Any) -> Any:
        days = _split_list(value)
        if isinstance(days, list):
            days = [str(d).strip().lower()[:3] for d in days]
            bad = [d for d in days if d not in WEEKDAYS]
            if bad or not days:
                raise ValueError(f"unknown weekday {bad[0]!r}" if bad else "no weekday given")
            return sorted(set(days), key=WEEKDAYS.index)
        return days

    @field_validator("scheduler_timezone")
    @classmethod
    def _check_tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("unknown time zone") from None
        return value

    @field_validator("trusted_proxies", "allowed_private_networks", mode="before")
    @classmethod
    def _parse_networks(cls, value: Any) -> Any:
        items = _split_list(value)
        if isinstance(items, list):
            try:
                return [ipaddress.ip_network(str(item), strict=False) for item in items]
            except ValueError as exc:
                raise ValueError(str(exc)) from None
        return items

    @field_validator("import_dirs", mode="before")
    @classmethod
    def _parse_dirs(cls, value: Any) -> Any:
        items = _split_list(value)
        if isinstance(items, list):
            paths = [Path(os.path.expanduser(str(item))) for item in items]
            relative = [str(p) for p in paths if not p.is_absolute()]
            if relative:
                raise ValueError(f"{relative[0]!r} is not an absolute path")
            return paths
        return items

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _parse_hosts(cls, value: Any) -> Any:
        items = _split_list(value)
        if not isinstance(items, list):
            return items
        hosts = []
        for item in items:
            host = normal_host(str(item))
            if host is None:
                raise ValueError(f"{str(item)[:100]!r} is not a host name, an address or *")
            hosts.append(host)
        return hosts

    @field_validator("notification_urls", mode="before")
    @classmethod
    def _parse_urls(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("notification_urls")
    @classmethod
    def _check_urls(cls, value: list[str]) -> list[str]:
        for url in value:
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s\x00]+", url):
                raise ValueError(f"{url[:60]!r} is not an apprise URL (scheme://...)")
        return value

    @field_validator("metadata_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        value = value.strip()
        if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?", value):
            raise ValueError("not a language tag")
        return value

    @field_validator("tmdb_base_url", "itunes_search_url")
    @classmethod
    def _check_http_url(cls, value: str) -> str:
        if not re.match(r"https?://[^/\s]+", value):
            raise ValueError("not an http(s) URL")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.data_dir / 'showkeeper.db'}"
        return self

    @property
    def config_path(self) -> Path:
        return self.data_dir / CONFIG_FILE_NAME

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            _ConfigJsonSource(settings_cls),
            file_secret_settings,
        )


class _ConfigJsonSource(PydanticBaseSettingsSource):
    """The values of <data_dir>/config.json, below the environment and .env."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        data = _config_json.get() or {}
        return data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        data = _config_json.get() or {}
        return {k: v for k, v in data.items() if k in self.settings_cls.model_fields}


_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?")


def normal_host(value: str) -> str | None:
    """A host as allowed_hosts holds it: lower case, IPv6 without brackets, no port; a
    `*` or `*.domain` pattern kept as is. None when it is not a host at all."""
    host = value.strip().lower().rstrip(".")
    if host == "*":
        return host
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host[2:] if host.startswith("*.") else host
    if not _HOST_NAME.fullmatch(name):
        return None
    return host


def env_name(field: str) -> str:
    return f"{ENV_PREFIX}{field.upper()}"


def format_validation_error(exc: ValidationError) -> str:
    """One line: which setting, the bad value, and what it accepts."""
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        info = Settings.model_fields.get(field)
        extra = info.json_schema_extra if info is not None else None
        accepted = extra.get("accepted") if isinstance(extra, dict) else None
        value = err.get("input")
        shown = "***" if field == "tmdb_api_key" else repr(value)
        msg = str(err["msg"]).removeprefix("Value error, ")
        line = f"invalid setting {field} ({env_name(field)}) = {shown}: {msg}"
        if accepted:
            line += f"; accepted: {accepted}"
        parts.append(line)
    return " | ".join(parts)


def _bootstrap_data_dir(env_file: str | Path | None) -> Path:
    """data_dir comes from the environment, .env or the default; never from config.json."""

    class _Boot(BaseSettings):
        model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")
        data_dir: Path = Path("./data")

    try:
        boot = _Boot(_env_file=env_file)
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc)) from None
    return Path(os.path.expanduser(boot.data_dir))


def read_config_json(path: Path) -> dict[str, Any]:
    """Read config.json; a missing file is empty, a corrupt one is a SettingsError."""
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return {}  # a data_dir that is not a folder is reported by the start-up checks
    except OSError as exc:
        raise SettingsError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = _restore_hint(path)
        raise SettingsError(
            f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); {hint}"
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path} must hold a JSON object; {_restore_hint(path)}")
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(f"{path} has unknown setting {unknown[0]!r}; {_restore_hint(path)}")
    return data


def backups_dir(data_dir: Path) -> Path:
    """Where config_store keeps the timestamped copies of config.json."""
    return data_dir / "config_backups"


def _restore_hint(path: Path) -> str:
    backups = sorted(backups_dir(path.parent).glob("config-*.json"))
    if backups:
        return f"restore a backup with: showkeeper config restore {backups[-1].name}"
    return "fix or delete the file"


def load_settings(env_file: str | Path | None = ".env", **overrides: Any) -> Settings:
    """Build the effective settings; raises SettingsError with a one-line cause.

    Args:
        env_file: the .env file to read (None for none).
        overrides: values above everything else (command-line options, tests).
    """
    data_dir = overrides.get("data_dir")
    data_dir = Path(data_dir) if data_dir is not None else _bootstrap_data_dir(env_file)
    file_values = read_config_json(data_dir / CONFIG_FILE_NAME)
    token = _config_json.set(file_values)
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        message = format_validation_error(exc)
        bad_fields = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
        from_file = {f for f in bad_fields & set(file_values) if env_name(f) not in os.environ}
        if from_file:
            message += f" (from {data_dir / CONFIG_FILE_NAME})"
        raise SettingsError(message) from None
    finally:
        _config_json.reset(token)


NOT_STORABLE = frozenset({"data_dir"})  # decides where config.json is, so never inside it


def _kind(field: str) -> str:
    """What JSON type a setting takes from a writer: int, number, bool, list or text."""
    annotation = Settings.model_fields[field].annotation
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "int"
    if annotation is float:
        return "number"
    if getattr(annotation, "__origin__", None) is list:
        return "list"
    return "text"


def _strict_problem(field: str, value: Any) -> str | None:
    """Why a written value has the wrong JSON type (no bool for an int, no "1" for a bool)."""
    kind = _kind(field)
    texts = value if isinstance(value, list) else [value]
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        return "contains a NUL character"
    if kind == "bool" and not isinstance(value, bool):
        return "must be true or false"
    if kind in ("int", "number") and (
        isinstance(value, bool) or not isinstance(value, int | float)
    ):
        return "must be a number"
    if kind == "int" and isinstance(value, float) and not value.is_integer():
        return "must be a whole number"
    if kind == "list" and not (
        isinstance(value, str)
        or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        return "must be a list of strings or a comma-separated string"
    if kind == "text" and not isinstance(value, str):
        return "must be a string"
    return None


def _invalid(field: str, value: Any, problem: str) -> SettingsError:
    info = Settings.model_fields[field]
    extra = info.json_schema_extra
    accepted = extra.get("accepted") if isinstance(extra, dict) else None
    shown = "***" if field == "tmdb_api_key" else _safe_repr(value)
    line = f"invalid setting {field} ({env_name(field)}) = {shown}: {problem}"
    return SettingsError(f"{line}; accepted: {accepted}" if accepted else line)


def _safe_repr(value: Any) -> str:
    return repr(value)[:200]


def check_library_dir(raw: str | Path) -> Path:
    """library_dir as every writer accepts it: an absolute path (~ expanded)."""
    path = Path(os.path.expanduser(str(raw)))
    if not path.is_absolute():
        raise SettingsError(
            f"library_dir {str(raw)[:200]!r} is not an absolute path; give one like /srv/shows"
        )
    return path


def parse_text_value(field: str, raw: str) -> Any:
    """A value typed on a command line, as the JSON type its setting takes: JSON for numbers,
    booleans and lists (a list may also be comma-separated text), the text itself otherwise."""
    if field in Settings.model_fields and _kind(field) == "text":
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        return raw


def validate_values(values: dict[str, Any], data_dir: Path) -> Settings:
    """The one check of settings written by anyone (API, CLI, setup, a restored backup):
    known keys, strict JSON types, no NUL, an absolute library_dir, then the Settings rules.

    Raises:
        SettingsError: one line naming the setting, the value and what is accepted.
    """
    unknown = sorted(set(values) - set(Settings.model_fields))
    if unknown:
        raise SettingsError(
            f"unknown setting {_safe_repr(unknown[0])}; `showkeeper config show` "
            "and GET /api/config list them"
        )
    stored = sorted(set(values) & NOT_STORABLE)
    if stored:
        raise SettingsError(
            f"{stored[0]} cannot be set in config.json; set {env_name(stored[0])} and restart"
        )
    for key, value in values.items():
        if value is not None and (problem := _strict_problem(key, value)):
            raise _invalid(key, value, problem)
    if values.get("library_dir") is not None:
        check_library_dir(values["library_dir"])
    # As init values they outrank the environment, so a bad value cannot hide behind it.
    try:
        return Settings(_env_file=None, **{**values, "data_dir": data_dir})
    except ValidationError as exc:
        raise SettingsError(format_validation_error(exc)) from None


def public_view(settings: Settings) -> dict[str, Any]:
    """Settings as JSON-able values, secrets masked."""
    out: dict[str, Any] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            out[name] = "********"
        elif name == "database_url" and "@" in value:
            out[name] = re.sub(r"//([^:/@]+):[^@]*@", r"//\1:********@", value)
        elif isinstance(value, Path):
            out[name] = str(value)
        elif isinstance(value, list):
            out[name] = [str(v) for v in value]
        else:
            out[name] = value
    return out
