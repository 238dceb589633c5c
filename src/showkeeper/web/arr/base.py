"""What every /api/v3 route shares: Sonarr's error shapes, JSON out, paging, dependencies."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import Depends, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.responses import Response

from showkeeper.automation.commands import CommandTracker
from showkeeper.errors import ShowkeeperError
from showkeeper.library.mediainfo import MediaInfoCache
from showkeeper.logging import redact
from showkeeper.web.arr.cache import ResponseCache
from showkeeper.web.deps import CtxDep

MAX_PAGE_SIZE = 1000
"""Larger page sizes are cut to this (Sonarr clients ask for 10,000 to mean "all")."""


class ServiceUnavailableError(ShowkeeperError):
    status_code = 503


class JsonResponse(Response):
    """orjson-encoded JSON: the series list of a big library is megabytes."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_body(message: str, status: int) -> dict[str, Any]:
    """Sonarr's error shape: ``{"message", "description"}``."""
    names = {400: "BadRequest", 404: "NotFound", 409: "Conflict", 503: "ServiceUnavailable"}
    # messages may quote what the client sent: a query-string key in it is redacted
    return {"message": redact(message), "description": names.get(status, "Error")}


def validation_body(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Sonarr's validation failure list; the attempted value is never echoed (it could be
    anything, a credential included)."""
    out = []
    for err in exc.errors()[:20]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("query", "body", "path")]
        out.append(
            {
                "propertyName": ".".join(loc) or "body",
                "errorMessage": redact(str(err.get("msg", "invalid value"))[:300]),
                "severity": "error",
            }
        )
    return out


class ArrRoute(APIRoute):
    """A route answering errors as Sonarr does: 400 (not 422) for bad input, and
    ``{"message", "description"}`` for errors a user can meet."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def arr_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return JsonResponse(validation_body(exc), status_code=400)
            except ShowkeeperError as exc:
                return JsonResponse(
                    error_body(str(exc), exc.status_code),
                    status_code=exc.status_code,
                    headers=getattr(exc, "headers", None),
                )

        return arr_handler


def page_window(page: int, page_size: int) -> tuple[int, int]:
    """(offset, limit) of a 1-based page; the size is capped at MAX_PAGE_SIZE."""
    size = max(1, min(page_size, MAX_PAGE_SIZE))
    return (max(page, 1) - 1) * size, size


def get_commands(ctx: CtxDep) -> CommandTracker:
    tracker = ctx.service(CommandTracker)
    if tracker is None:
        raise ServiceUnavailableError("commands run only in the server; start showkeeper serve")
    return tracker


def get_media(ctx: CtxDep) -> MediaInfoCache | None:
    return ctx.service(MediaInfoCache)


def get_cache(ctx: CtxDep) -> ResponseCache | None:
    return ctx.service(ResponseCache)


PathId = Annotated[int, Path(ge=0, le=2**31 - 1)]
"""Sonarr's ids are int32."""

CommandsDep = Annotated[CommandTracker, Depends(get_commands)]
MediaDep = Annotated[MediaInfoCache | None, Depends(get_media)]
CacheDep = Annotated[ResponseCache | None, Depends(get_cache)]
