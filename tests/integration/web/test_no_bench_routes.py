"""Nothing in the shipped app exists for a benchmark: bench/ adds what it needs itself."""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from showkeeper.config import Settings
from showkeeper.web.app import create_app


def test_no_route_exists_for_benchmarks(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The old switch must not bring a route back either.
    monkeypatch.setenv("SHOWKEEPER_BENCH_EVENTS", "1")
    app = create_app(settings)
    paths = [str(route.path) for route in iter_route_contexts(app.routes)]
    assert "/health" in paths and "/static" in paths  # the walk sees routes and mounts
    assert [p for p in paths if "bench" in p.lower()] == []
    assert [p for p in app.openapi()["paths"] if "bench" in p.lower()] == []
