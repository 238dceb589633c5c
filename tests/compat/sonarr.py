"""Validation of response bodies against Sonarr's kept v3 schemas (see README.md here)."""

from __future__ import annotations

import copy
import functools
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema

SPEC_PATH = Path(__file__).with_name("sonarr_v3_openapi.json")
INT32 = (-(2**31), 2**31 - 1)


@functools.cache
def spec() -> dict[str, Any]:
    return json.loads(SPEC_PATH.read_text())


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 -> JSON Schema: ``nullable: true`` becomes a null alternative."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k not in ("nullable", "readOnly")}
    if node.get("nullable"):
        if "$ref" in out:
            return {"anyOf": [{"$ref": out.pop("$ref")}, {"type": "null"}], **out}
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@functools.cache
def _components() -> dict[str, Any]:
    return _to_json_schema(copy.deepcopy(spec()["components"]))


_checker = jsonschema.FormatChecker()


@_checker.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return "T" in value


@_checker.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or INT32[0] <= value <= INT32[1]


@_checker.checks("date-span", raises=ValueError)
def _span(value: object) -> bool:
    if isinstance(value, str) and not re.fullmatch(r"(\d+\.)?\d{2}:\d{2}:\d{2}(\.\d+)?", value):
        raise ValueError(f"not a TimeSpan: {value!r}")
    return True


def validate(schema_name: str, body: Any) -> None:
    """Raise jsonschema.ValidationError unless ``body`` fits ``#/components/schemas/NAME``."""
    validate_schema({"$ref": f"#/components/schemas/{schema_name}"}, body)


def validate_schema(schema: dict[str, Any], body: Any) -> None:
    root = {**_to_json_schema(schema), "components": _components()}
    jsonschema.Draft202012Validator(root, format_checker=_checker).validate(body)


@functools.cache
def _operations() -> list[tuple[re.Pattern[str], str, str, dict[str, Any] | None]]:
    out = []
    for template, methods in spec()["paths"].items():
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", r"[^/]+", template) + "$")
        for method, op in methods.items():
            content = op.get("responses", {}).get("200", {}).get("content", {})
            schema = content.get("application/json", {}).get("schema")
            out.append((pattern, method.upper(), template, schema))
    # literal paths before templated ones (series/lookup before series/{id})
    out.sort(key=lambda o: o[2].count("{"))
    return out


def schema_for(method: str, path: str) -> tuple[str, dict[str, Any] | None] | None:
    """(path template, response schema) of the operation serving ``method path``; None when
    the kept spec has no such operation."""
    for pattern, op_method, template, schema in _operations():
        if op_method == method.upper() and pattern.match(path):
            return template, schema
    return None


def check_response(method: str, path: str, status: int, body: Any) -> str | None:
    """Validate a successful response body; answers the operation's template (None: unknown)."""
    found = schema_for(method, path)
    if found is None or status >= 300:
        return found[0] if found else None
    template, schema = found
    if schema is not None:
        validate_schema(schema, body)
    return template
