"""Item 11: one validation path for every settings writer (API, CLI, setup, a restored
backup): strict JSON types, the same checks and the same message, and nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from showkeeper.cli import app as cli_app
from showkeeper.config import Settings

JSON = {"Content-Type": "application/json"}
BAD = [
    ("port", True, "must be a number"),
    ("download_concurrency", "3", "must be a number"),
    ("download_per_host_delay_s", False, "must be a number"),
    ("metrics_public", 1, "must be true or false"),
    ("notification_urls", ["\x00"], "NUL"),
    ("notification_urls", ["json://ok.example", "not a url"], "apprise URL"),
    ("tmdb_api_key", "abc\x00def", "NUL"),
    ("tmdb_api_key", "abc\ud800def", "surrogate"),
    ("library_dir", "rel/path", "not an absolute path"),
    ("scheduler_time", 3, "must be a string"),
    ("data_dir", "/tmp/elsewhere", "cannot be set in config.json"),
    ("no_such_setting", 1, "unknown setting"),
]


@pytest.mark.parametrize(("key", "value", "expected"), BAD)
async def test_api_and_cli_refuse_the_same_values_with_the_same_message(
    api: httpx.AsyncClient, settings: Settings, key: str, value: object, expected: str
) -> None:
    config = settings.data_dir / "config.json"
    before = config.read_text()
    body = {"content": json.dumps({"values": {key: value}}).encode(), "headers": JSON}
    resp = await api.put("/api/config", **body)  # type: ignore[arg-type]
    assert resp.status_code == 400, resp.text
    message = resp.json()["detail"]
    assert expected in message
    check = await api.post("/api/config/validate", **body)  # type: ignore[arg-type]
    edge = "\\x00" in repr(value) or "\\ud800" in repr(value)  # refused before any route
    if edge:
        assert check.status_code == 400 and check.json()["detail"] == message
    else:
        assert check.json() == {"valid": False, "error": message}
    assert config.read_text() == before

    # the CLI types text: JSON where the setting takes a number, a boolean or a list
    typed = value if isinstance(value, str) else json.dumps(value)
    if "\x00" in typed or "\ud800" in typed or key in ("download_concurrency", "scheduler_time"):
        return  # a command line cannot carry NUL or a surrogate; "3" there is text or a number
    result = CliRunner().invoke(
        cli_app, ["--data-dir", str(settings.data_dir), "config", "set", key, typed]
    )
    assert result.exit_code == (2 if key == "no_such_setting" else 1), result.output
    assert expected in result.output
    if not edge:
        assert " ".join(message.split()) in " ".join(result.output.split())
    assert config.read_text() == before


async def test_good_values_still_pass_every_writer(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    resp = await api.put(
        "/api/config",
        json={"values": {"port": 8123, "download_per_host_delay_s": 1, "metrics_public": True}},
    )
    assert resp.status_code == 200, resp.text
    runner = CliRunner()
    for key, text in [("tmdb_api_key", "12345"), ("download_concurrency", "4")]:
        result = runner.invoke(
            cli_app, ["--data-dir", str(settings.data_dir), "config", "set", key, text]
        )
        assert result.exit_code == 0, result.output
    stored = json.loads((settings.data_dir / "config.json").read_text())
    assert stored["tmdb_api_key"] == "12345" and stored["download_concurrency"] == 4


async def test_setup_and_restore_use_the_same_check(
    anon_api: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    resp = await anon_api.post(
        "/api/auth/setup", json={"password": "correct horse battery", "library_dir": "rel/path"}
    )
    assert resp.status_code == 400 and "not an absolute path" in resp.json()["detail"]
    assert not (settings.data_dir / "config.json").exists()

    backups = settings.data_dir / "config_backups"
    backups.mkdir()
    name = "config-20260101T000000000000Z.json"
    (backups / name).write_text(json.dumps({"port": True}))
    result = CliRunner().invoke(
        cli_app, ["--data-dir", str(settings.data_dir), "config", "restore", name]
    )
    assert result.exit_code == 1 and "must be a number" in result.output
    assert not (settings.data_dir / "config.json").exists()
