"""Error responses: a user error is its 4xx, bad input is never a 5xx, and no response echoes
text it cannot encode (a lone surrogate in a body that failed validation)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, DBAPIError
from starlette.responses import JSONResponse

from showkeeper.errors import ShowkeeperError
from showkeeper.logging import get_logger

log = get_logger(__name__)
_MAX_ECHO = 200


class SafeJSONResponse(JSONResponse):
    """ASCII JSON: any text (a lone surrogate too) is escaped, never an encoding error."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":"), default=str).encode()


def _echo(value: Any, depth: int = 0) -> Any:
    """What of a bad input an error may show: short, shallow, and encodable."""
    if isinstance(value, str):
        text = value.encode("utf-8", "backslashreplace").decode("utf-8")
        return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "..."
    if isinstance(value, bytes):
        return _echo(value.decode("utf-8", "backslashreplace"), depth)
    if isinstance(value, bool | int | float) or value is None:
        return value if not isinstance(value, int) or abs(value) < 2**63 else str(value)[:40]
    if depth >= 3:
        return "..."
    if isinstance(value, dict):
        return {str(_echo(k, depth + 1)): _echo(v, depth + 1) for k, v in list(value.items())[:20]}
    if isinstance(value, list | tuple):
        return [_echo(v, depth + 1) for v in list(value)[:20]]
    return _echo(str(value), depth)


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors()[:50]:
        item = {k: err[k] for k in ("type", "loc", "msg") if k in err}
        if "input" in err:
            item["input"] = err["input"]
        if isinstance(err.get("ctx"), dict):
            item["ctx"] = {k: str(v) for k, v in err["ctx"].items()}
        out.append(_echo(jsonable_encoder(item, custom_encoder={bytes: repr}), depth=-10))
    return out


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ShowkeeperError)
    async def _user_error(request: Request, exc: ShowkeeperError) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        return SafeJSONResponse({"detail": str(exc)}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return SafeJSONResponse({"detail": validation_errors(exc)}, status_code=422)

    @app.exception_handler(RecursionError)
    async def _too_deep(request: Request, exc: RecursionError) -> JSONResponse:
        return SafeJSONResponse({"detail": "input nested too deeply"}, status_code=400)

    @app.exception_handler(UnicodeEncodeError)
    async def _unencodable(request: Request, exc: UnicodeEncodeError) -> JSONResponse:
        return SafeJSONResponse(
            {"detail": "text that is not valid Unicode (a lone surrogate?)"}, status_code=400
        )

    async def _unstorable(request: Request, exc: Exception) -> JSONResponse:
        # bounds and the edge checks should stop these first; the log shows which got through
        log.warning("input the database refused", path=request.url.path, error=str(exc)[:300])
        return SafeJSONResponse(
            {"detail": "a value the database cannot store (out of range or not valid text)"},
            status_code=400,
        )

    async def _database_error(request: Request, exc: Exception) -> JSONResponse:
        if _is_data_error(exc):
            return await _unstorable(request, exc)
        raise exc  # a database that fails is a 500, and says so in the log

    app.add_exception_handler(DataError, _unstorable)
    app.add_exception_handler(OverflowError, _unstorable)
    app.add_exception_handler(DBAPIError, _database_error)


def _is_data_error(exc: BaseException) -> bool:
    """The driver refused a value (asyncpg's DataError family: out of range, NUL in text),
    as opposed to a database that is down or a query that is wrong."""
    seen: BaseException | None = getattr(exc, "orig", None)
    while seen is not None:
        if any(c.__name__ == "DataError" for c in type(seen).__mro__):
            return True
        seen = seen.__cause__
    return False
