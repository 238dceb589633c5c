"""Structured logging: console plus a rotating JSON-lines file under data_dir/logs.

A request id, bound per request in contextvars, is on every line logged while the
request is served (see web/middleware.py).
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
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


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    redact_secrets,
]


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
    max_bytes: int = 10 * 1024 * 1024,
    backups: int = 5,
) -> None:
    """Route structlog and the standard library (uvicorn, sqlalchemy) through one pipeline.

    ``console_level`` raises the console's threshold above ``level`` (the file keeps
    ``level``); "OFF" silences the console.
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
                console_renderer,
            ],
        )
    )
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
