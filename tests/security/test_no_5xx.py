"""Item 10: no input gives a 5xx, on SQLite and PostgreSQL, and the keep-alive connection
survives every answer: lone surrogates, NUL, integers beyond 64 bits, deep nesting, in the
path, the query string and the body of every operation; bad WebSocket frames are answered."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from showkeeper.config import Settings
from tests.integration.web.test_schemathesis import directory_server
from tests.pg import fresh_pg_database
from tests.security.conftest import live_server

# they would end our own credentials in the middle of the crawl
SKIP = {
    ("POST", "/api/auth/logout"),
    ("POST", "/api/auth/api-key/rotate"),
    ("POST", "/api/auth/tokens/revoke"),
}
PATH_VALUES = [str(2**70), str(-(2**70)), "%00", "a%00b", "%ED%A0%80", "9" * 400, "%FF%FE"]
QUERY_VALUES = [str(2**70), str(-(2**70)), "%00", "%ED%A0%80", "%F0%28%8C%28", "1e400"]
RAW_BODIES = [
    b'{"junk": "\\ud800"}',
    b'{"password": 5, "library_dir": "\\udfff", "values": {"port": "\\ud800"}}',
    b'{"values": {"notification_urls": ["\\u0000"]}}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    b"\xff\xfe\x00garbage",
    b'"\\ud800"',
]


def _resolve(spec: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def hostile(spec: dict[str, Any], schema: Any, variant: int, depth: int = 0) -> Any:
    """A value of the schema's shape with hostile leaves (variant picks which)."""
    schema = _resolve(spec, schema)
    if not isinstance(schema, dict) or depth > 4:
        return None
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [o for o in schema[key] if _resolve(spec, o).get("type") != "null"]
            return hostile(spec, options[0] if options else {}, variant, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {"\ud800": {"type": "string"}}
        return {name: hostile(spec, sub, variant, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [hostile(spec, schema.get("items", {}), variant, depth + 1)]
    if kind == "integer" or kind == "number":
        return [2**70, -(2**70), 2**64, 1e308][variant % 4]
    if kind == "boolean":
        return [True, "\ud800", 2**70, None][variant % 4]
    return ["\ud800", "a\x00b", "\udfff\ud800", "x" * 100_000][variant % 4]


def requests_for(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    out: list[tuple[str, str, dict[str, Any]]] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            method = method.upper()
            if (method, path) in SKIP:
                continue
            params = op.get("parameters", [])
            path_names = [p["name"] for p in params if p["in"] == "path"]
            queries = [p["name"] for p in params if p["in"] == "query"]
            for value in PATH_VALUES if path_names else ["x"]:
                target = path
                for name in path_names:
                    target = target.replace("{" + name + "}", value)
                out.append((method, target, {}))
            concrete = path
            for name in path_names:
                concrete = concrete.replace("{" + name + "}", "1")
            for name in queries:
                for value in QUERY_VALUES:
                    out.append((method, f"{concrete}?{name}={value}", {}))
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None:
                for raw in RAW_BODIES:
                    out.append((method, concrete, {"content": raw}))
                for variant in range(4):
                    value = hostile(spec, body["schema"], variant)
                    out.append((method, concrete, {"content": json.dumps(value).encode()}))
    return out


async def crawl(url: str, key: str) -> None:
    headers = {"X-Api-Key": key, "Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=60) as client:
        spec = (await client.get("/openapi.json")).json()
        cases = requests_for(spec)
        assert len(cases) > 300
        failures = []
        for method, target, kwargs in cases:
            try:
                resp = await client.request(method, target, **kwargs)
            except httpx.TransportError as exc:  # a reset keep-alive connection
                failures.append(f"{method} {target[:80]}: {type(exc).__name__}")
                continue
            if resp.status_code >= 500:
                failures.append(f"{method} {target[:80]} -> {resp.status_code} {resp.text[:200]}")
        assert failures == [], "\n".join(failures[:40])
        assert (await client.get("/health")).status_code == 200


async def websocket_bad_frames(url: str, key: str) -> None:
    ws_url = url.replace("http://", "ws://") + "/ws/connect"
    async with connect(ws_url, additional_headers={"X-Api-Key": key}) as ws:
        assert json.loads(await ws.recv())["type"] == "welcome"
        for frame in (
            "[" * 100_000 + "]" * 100_000,
            b"\x00\x01binary",
            "\ud800".encode("utf-8", "surrogatepass"),
            "null",
            "[1]",
        ):
            await ws.send(frame)
            reply = json.loads(await ws.recv())
            assert reply["type"] == "error", reply
        await ws.send(json.dumps({"action": "ping"}))
        assert json.loads(await ws.recv()) == {"type": "pong"}


async def run_all(settings: Settings) -> None:
    runner, search_url = await directory_server()  # no request leaves 127.0.0.1
    try:
        local = settings.model_copy(update={"itunes_search_url": search_url})
        async with live_server(local) as (_app, url, key):
            await crawl(url, key)
            await websocket_bad_frames(url, key)
    finally:
        await runner.cleanup()


async def test_no_5xx_on_sqlite(settings: Settings) -> None:
    await run_all(settings)


@pytest.mark.postgres
async def test_no_5xx_on_postgres(settings: Settings) -> None:
    async with fresh_pg_database() as db_url:
        await run_all(settings.model_copy(update={"database_url": db_url}))


def test_every_integer_a_request_carries_is_bounded(settings: Settings) -> None:
    from showkeeper.web.app import create_app

    spec = create_app(settings).openapi()
    found: list[str] = []

    def walk(node: Any, where: str, seen: frozenset[str]) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[1]
                if name not in seen:
                    walk(spec["components"]["schemas"][name], name, seen | {name})
                return
            if node.get("type") == "integer" and not ("maximum" in node and "minimum" in node):
                found.append(where)
            for key, value in node.items():
                walk(value, f"{where}/{key}", seen)
        elif isinstance(node, list):
            for value in node:
                walk(value, where, seen)

    for path, item in spec["paths"].items():
        for method, op in item.items():
            for param in op.get("parameters", []):
                walk(param["schema"], f"{method} {path} {param['name']}", frozenset())
            body = op.get("requestBody", {}).get("content", {})
            for media in body.values():
                walk(media["schema"], f"{method} {path} body", frozenset())
    assert found == []
