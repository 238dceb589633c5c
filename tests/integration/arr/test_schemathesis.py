"""Property-based requests against a real server: no 5xx on the /api/v3 subset, generated
from our own OpenAPI document and from Sonarr's kept schemas (what Sonarr clients may send)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from tests.compat.sonarr import SPEC_PATH
from tests.integration.arr.conftest import SHOW, ArrServer, ArrSite, wait_for

pytestmark = pytest.mark.slow
MAX_EXAMPLES = 12


def fuzz(operations: list[Any], server: ArrServer) -> list[str]:
    failures: list[str] = []
    headers = {"X-Api-Key": server.api_key}
    for operation in operations:

        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(), data=st.data())
        def run(case: Any, data: Any) -> None:
            response = case.call(base_url=server.url, headers=headers, timeout=30)
            if response.status_code >= 500:
                failures.append(
                    f"{case.method} {case.formatted_path} {case.query} -> "
                    f"{response.status_code}: {response.text[:300]}"
                )

        run()
    return failures


def seed(server: ArrServer, site: ArrSite) -> None:
    with server.client() as api:
        series_id = api.post("/api/v3/series", json={"sourceUrl": site.feed_url}).json()["id"]
        wait_for(
            lambda: api.get(f"/api/v3/series/{series_id}").json()["title"] == SHOW,
            what="the series to load",
        )
        api.post("/api/v3/tag", json={"label": "fuzz"})


def test_our_v3_document(arr_server: ArrServer, arr_site: ArrSite) -> None:
    seed(arr_server, arr_site)
    with arr_server.client() as api:
        spec = api.get("/openapi.json").json()
    spec["paths"] = {
        path: ops
        for path, ops in spec["paths"].items()
        if path.startswith("/api/v3/") or path.startswith("/feed/")
    }
    schema = schemathesis.openapi.from_dict(spec)
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 40
    assert fuzz(operations, arr_server) == []


def test_sonarr_schemas(arr_server: ArrServer, arr_site: ArrSite) -> None:
    seed(arr_server, arr_site)
    schema = schemathesis.openapi.from_dict(json.loads(SPEC_PATH.read_text()))
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) >= 35
    assert fuzz(operations, arr_server) == []
