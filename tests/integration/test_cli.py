import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from showkeeper import __version__
from showkeeper.cli import app
from tests.conftest import free_port

runner = CliRunner()


def invoke(data_dir: Path, *args: str):
    return runner.invoke(app, ["--data-dir", str(data_dir), *args])


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_config_set_show_backups_restore(data_dir: Path) -> None:
    assert invoke(data_dir, "config", "set", "port", "8111").exit_code == 0
    assert invoke(data_dir, "config", "set", "scheduler_weekdays", '["mon","tue"]').exit_code == 0
    shown = invoke(data_dir, "config", "show", "--json")
    assert shown.exit_code == 0, shown.output
    view = json.loads(shown.output)
    assert view["port"] == 8111 and view["scheduler_weekdays"] == ["mon", "tue"]
    backups = invoke(data_dir, "config", "backups")
    assert backups.exit_code == 0
    name = next(p.name for p in (data_dir / "config_backups").iterdir())
    assert name in backups.output
    restored = invoke(data_dir, "config", "restore", name)
    assert restored.exit_code == 0, restored.output
    assert json.loads((data_dir / "config.json").read_text()) == {"port": 8111}


def test_config_set_invalid_value_fails_with_one_line(data_dir: Path) -> None:
    result = invoke(data_dir, "config", "set", "port", "nope")
    assert result.exit_code == 1
    assert "invalid setting port" in result.output
    assert "Traceback" not in result.output
    assert not (data_dir / "config.json").exists()
    unknown = invoke(data_dir, "config", "set", "colour", "blue")
    assert unknown.exit_code == 2 and "unknown setting" in unknown.output


def test_config_validate_reports_bad_environment(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert invoke(data_dir, "config", "validate").exit_code == 0
    monkeypatch.setenv("SHOWKEEPER_SCHEDULER_TIME", "7pm")
    result = invoke(data_dir, "config", "validate")
    assert result.exit_code == 1
    assert "scheduler_time" in result.output and "HH:MM" in result.output


def test_db_upgrade_creates_the_database(data_dir: Path) -> None:
    result = invoke(data_dir, "db", "upgrade")
    assert result.exit_code == 0, result.output
    from showkeeper.db.migrate import head_revisions

    assert ", ".join(sorted(head_revisions())) in result.output
    assert (data_dir / "showkeeper.db").exists()


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "showkeeper", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )


@pytest.mark.slow
def test_subprocess_version_and_doctor(data_dir: Path) -> None:
    assert run_cli("--version").stdout.strip() == f"showkeeper {__version__}"
    doctor = run_cli("--data-dir", str(data_dir), "doctor")
    assert "ffmpeg" in doctor.stdout and ("PATH" in doctor.stdout or "imageio" in doctor.stdout)


@pytest.mark.slow
def test_serve_answers_health_and_stops_cleanly(data_dir: Path, library_dir: Path) -> None:
    port = free_port()
    env = {
        "SHOWKEEPER_DATA_DIR": str(data_dir),
        "SHOWKEEPER_PORT": str(port),
        "SHOWKEEPER_LIBRARY_DIR": str(library_dir),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "showkeeper", "serve"],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            except httpx.TransportError:
                time.sleep(0.2)
        assert body is not None and body["status"] == "healthy"
        assert (data_dir / "showkeeper.db").exists()
        # a second server on the same port: one line, non-zero exit
        second = run_cli("serve", env=env)
        assert second.returncode == 1
        assert f"port {port} on 127.0.0.1 is already in use" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out
    assert "Traceback" not in out
    assert (data_dir / "logs" / "showkeeper.log").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SHOWKEEPER_PORT": "0"}, "invalid setting port (SHOWKEEPER_PORT) = '0'"),
        (
            {"SHOWKEEPER_DATABASE_URL": "postgresql+asyncpg://nobody@127.0.0.1:1/none"},
            "cannot open database",
        ),
    ],
)
def test_serve_bad_start_up_is_one_line(data_dir: Path, env: dict[str, str], expected: str) -> None:
    result = run_cli("serve", env={"SHOWKEEPER_DATA_DIR": str(data_dir), **env})
    assert result.returncode == 1
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_serve_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a folder should be")
    result = run_cli("serve", env={"SHOWKEEPER_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 1
    assert "data_dir" in result.stderr and "not writable" in result.stderr
    assert "Traceback" not in result.stderr
