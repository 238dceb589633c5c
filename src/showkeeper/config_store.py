"""config.json writes: atomic, validated, with timestamped backups that can be restored."""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from showkeeper.config import (
    CONFIG_FILE_NAME,
    SettingsError,
    backups_dir,
    read_config_json,
    validate_values,
)

_BACKUP_RE = re.compile(r"config-(\d{8}T\d{12})Z\.json")


@dataclass(frozen=True, slots=True)
class Backup:
    name: str
    path: Path
    size: int
    created_at: datetime


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write data to path so that a reader sees the old or the new file, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


class ConfigStore:
    """The config.json of one data_dir."""

    def __init__(self, data_dir: Path, *, keep: int = 10) -> None:
        self.data_dir = data_dir
        self.path = data_dir / CONFIG_FILE_NAME
        self.backups = backups_dir(data_dir)
        self.keep = keep

    def read(self) -> dict[str, Any]:
        return read_config_json(self.path)

    def write(self, values: dict[str, Any]) -> Path | None:
        """Validate and atomically replace config.json; returns the backup made, if any.

        Raises:
            SettingsError: a value is invalid; nothing is written.
        """
        validate_values(values, self.data_dir)
        payload = (json.dumps(values, indent=2, sort_keys=True) + "\n").encode()
        backup = self._backup()
        atomic_write_bytes(self.path, payload)
        self._prune()
        return backup

    def set(self, key: str, value: Any) -> Path | None:
        """Set one key (validated) and write; other keys are kept."""
        values = self._read_for_update()
        values[key] = value
        return self.write(values)

    def unset(self, key: str) -> Path | None:
        values = self._read_for_update()
        values.pop(key, None)
        return self.write(values)

    def _read_for_update(self) -> dict[str, Any]:
        return self.read()

    def list_backups(self) -> list[Backup]:
        """Newest first."""
        if not self.backups.is_dir():
            return []
        found = []
        for path in self.backups.iterdir():
            match = _BACKUP_RE.fullmatch(path.name)
            if match:
                stat = path.stat()
                stamp = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
                found.append(Backup(path.name, path, stat.st_size, stamp))
        return sorted(found, key=lambda b: b.name, reverse=True)

    def restore(self, name: str) -> Path | None:
        """Make backup `name` the current config.json (the current one is backed up first).

        Raises:
            SettingsError: no such backup, or it does not hold valid settings.
        """
        if not _BACKUP_RE.fullmatch(name):
            raise SettingsError(
                f"no backup named {name!r}; list them with `showkeeper config backups`"
            )
        path = self.backups / name
        if not path.is_file():
            raise SettingsError(
                f"no backup named {name!r}; list them with `showkeeper config backups`"
            )
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise SettingsError(f"backup {name} cannot be read: {exc}") from None
        if not isinstance(values, dict):
            raise SettingsError(f"backup {name} does not hold a JSON object")
        return self.write(values)

    def _backup(self) -> Path | None:
        if not self.path.exists():
            return None
        self.backups.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.backups / f"config-{stamp}Z.json"
        atomic_write_bytes(target, self.path.read_bytes())
        return target

    def _prune(self) -> None:
        for old in self.list_backups()[self.keep :]:
            old.path.unlink(missing_ok=True)
