import json
from pathlib import Path

import pytest

from showkeeper.config import SettingsError, load_settings
from showkeeper.config_store import ConfigStore


def test_write_backup_restore_round_trip(data_dir: Path) -> None:
    store = ConfigStore(data_dir, keep=10)
    assert store.write({"port": 8001}) is None  # nothing to back up yet
    first_backup = store.set("port", 8002)
    assert first_backup is not None
    assert json.loads(first_backup.read_text()) == {"port": 8001}
    store.set("log_level", "DEBUG")
    assert store.read() == {"port": 8002, "log_level": "DEBUG"}
    backups = store.list_backups()
    assert [b.name for b in backups][-1] == first_backup.name  # newest first
    store.restore(first_backup.name)
    assert store.read() == {"port": 8001}
    assert load_settings(env_file=None, data_dir=data_dir).port == 8001
    # restoring backed up the state it replaced
    assert {"port": 8002, "log_level": "DEBUG"} in [
        json.loads(b.path.read_text()) for b in store.list_backups()
    ]


def test_invalid_value_is_refused_and_nothing_is_written(data_dir: Path) -> None:
    store = ConfigStore(data_dir)
    store.write({"port": 8001})
    before = store.path.read_bytes()
    with pytest.raises(SettingsError, match="port"):
        store.set("port", 0)
    with pytest.raises(SettingsError, match="unknown setting"):
        store.set("no_such_thing", 1)
    assert store.path.read_bytes() == before
    assert store.list_backups() == []
    assert sorted(p.name for p in data_dir.iterdir()) == ["config.json"]  # no temp files left


def test_newest_n_backups_are_kept(data_dir: Path) -> None:
    store = ConfigStore(data_dir, keep=3)
    for port in range(8001, 8010):
        store.write({"port": port})
    backups = store.list_backups()
    assert len(backups) == 3
    assert [json.loads(b.path.read_text())["port"] for b in backups] == [8008, 8007, 8006]


def test_corrupt_config_is_reported_with_the_backup_to_restore(data_dir: Path) -> None:
    store = ConfigStore(data_dir)
    store.write({"port": 8001})
    store.write({"port": 8002})
    newest = store.list_backups()[0].name
    store.path.write_text('{"port": 80')  # someone edited it by hand
    with pytest.raises(SettingsError) as info:
        load_settings(env_file=None, data_dir=data_dir)
    assert "not valid JSON" in str(info.value)
    assert f"showkeeper config restore {newest}" in str(info.value)
    with pytest.raises(SettingsError):
        store.set("port", 8003)  # never builds on a broken file
    store.restore(newest)
    assert store.read() == {"port": 8001}


@pytest.mark.parametrize(
    "name", ["../config.json", "config-x.json", "/etc/passwd", "config-20260101T000000000000Z.json"]
)
def test_restore_refuses_unknown_names(data_dir: Path, name: str) -> None:
    with pytest.raises(SettingsError, match="no backup named"):
        ConfigStore(data_dir).restore(name)
