"""Structured logging: console plus a rotating JSON-lines file under data_dir/logs.

A request id, bound per request in contextvars, is on every line logged while the
request is served (see web/middleware.py).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import structlog

_QUERY_SECRET = re.compile(r"(apikey=)[^&\s\"'#]*", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``apikey=...`` (the Sonarr API's query-string key) replaced by ``apikey=[redacted]``."""
    return _QUERY_SECRET.sub(r"\1" + REDACTED, text) if "apikey" in text.lower() else text


def redact_secrets(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    """structlog processor: no line carries a query-string API key (access logs included)."""
    for key, value in event_dict.items():
        if isinstance(value, str):
            event_dict[key] = redact(value)
    return event_dict


class RedactFilter(logging.Filter):
    """Redacts the record itself, before any handler (ours or not) formats it: set on the
    uvicorn.access logger, whose lines carry the request's query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


INTERNAL_KEYS = frozenset(
    {"owner", "owners", "item_id", "item_ids", "episode_id", "lease_owner", "lease_expires_at"}
)
"""Log fields that identify rows and worker processes: for the log file and an operator,
not for a person watching a command (the CLI leaves them off its console)."""

_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,
]


def _without(keys: Collection[str]) -> Any:
    """structlog processor: the event without ``keys`` (for one handler's rendering only)."""
    hidden = frozenset(keys)

    def drop(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in event_dict.items() if k not in hidden}

    return drop


def _event_of(record: logging.LogRecord) -> str:
    """The event text of a record, structlog's or the standard library's."""
    if isinstance(record.msg, dict):
        return str(record.msg.get("event", ""))
    return record.getMessage()


class _HideEvents(logging.Filter):
    def __init__(self, events: Collection[str], prefixes: Collection[str]) -> None:
        super().__init__()
        self.events = frozenset(events)
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        event = _event_of(record)
        return event not in self.events and not event.startswith(self.prefixes)


@contextmanager
def hidden_on_console(events: Collection[str], *, prefixes: Collection[str] = ()) -> Iterator[None]:
    """Within the block, log lines whose event is one of ``events`` (or starts with one of
    ``prefixes``) are left off the console; the log file still gets them. For a display that
    says the same thing its own way (the CLI's line per failed download)."""
    hide = _HideEvents(events, prefixes)
    consoles = [h for h in logging.getLogger().handlers if getattr(h, "_showkeeper_console", 0)]
    for handler in consoles:
        handler.addFilter(hide)
    try:
        yield
    finally:
        for handler in consoles:
            handler.removeFilter(hide)


class _CurrentStderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record arrives, so a live progress display
    that redirects it (rich does) prints log lines above its bars, never through them."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stderr
        super().emit(record)


def setup_logging(
    level: str = "INFO",
    *,
    logs_dir: Path | None = None,
    console_format: str = "console",
    console_level: str | None = None,
    console_hidden_keys: Collection[str] = (),
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Route structlog and the standard library (uvicorn, sqlalchemy) through one pipeline.

    ``console_level`` raises the console's threshold above ``level`` (the file keeps
    ``level``); "OFF" silences the console. ``console_hidden_keys``: fields left off the
    console's lines (the file keeps them), e.g. internal ids a person has no use for.
    """
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    console_renderer: Any = (
        structlog.processors.JSONRenderer()
        if console_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_showkeeper", False):
            root.removeHandler(handler)
            handler.close()
    console = _CurrentStderr()
    if console_level is not None:
        console.setLevel(
            logging.CRITICAL + 1 if console_level == "OFF" else logging.getLevelName(console_level)
        )
    console.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                *([_without(console_hidden_keys)] if console_hidden_keys else []),
                console_renderer,
            ],
        )
    )
    console._showkeeper_console = True  # type: ignore[attr-defined]
    handlers: list[logging.Handler] = [console]
    if logs_dir is not None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            logs_dir / "showkeeper.log", maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        file_handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=_SHARED,
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    structlog.processors.JSONRenderer(),
                ],
            )
        )
        handlers.append(file_handler)
    for handler in handlers:
        handler._showkeeper = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("aiosqlite", "asyncio", "alembic.runtime.migration"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uv = logging.getLogger(name)
        uv.handlers.clear()
        uv.propagate = True
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactFilter) for f in access.filters):
        access.addFilter(RedactFilter())


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
