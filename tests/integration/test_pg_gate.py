"""The postgres tests cannot pass by being left out: without SHOWKEEPER_TEST_PG_URL under CI,
or with a URL nobody answers at, they fail (each case is a real pytest run of a real test)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
A_POSTGRES_TEST = "tests/integration/web/test_postgres.py"


def run_pytest(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"CI", "SHOWKEEPER_TEST_PG_URL"}}
    return subprocess.run(
        [sys.executable, "-m", "pytest", A_POSTGRES_TEST, "-q", "-rfs", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=110,
    )


def test_without_a_url_it_is_skipped_on_a_developer_machine() -> None:
    done = run_pytest()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 skipped" in done.stdout and "set SHOWKEEPER_TEST_PG_URL" in done.stdout


def test_without_a_url_it_fails_under_ci() -> None:
    done = run_pytest(CI="true")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 error" in done.stdout and "skipped" not in done.stdout  # failed in its setup
    assert "CI=true but SHOWKEEPER_TEST_PG_URL is not set" in done.stdout


@pytest.mark.parametrize("ci", ["", "true"])
def test_an_unreachable_server_fails_and_never_skips(ci: str) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"  # nothing listens there
    done = run_pytest(CI=ci, SHOWKEEPER_TEST_PG_URL=url)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout and "skipped" not in done.stdout
    assert f"SHOWKEEPER_TEST_PG_URL={url} is set but PostgreSQL cannot be reached" in done.stdout
