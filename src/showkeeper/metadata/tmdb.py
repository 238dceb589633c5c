"""The TMDB API (v3 paths), through the guarded HTTP client.

``async with TmdbClient(settings) as tmdb: await tmdb.search_tv("Dark")`` opens one session
for the block and closes it at its end, so no session outlives its use. A v3 API key goes in
the ``api_key`` query parameter, a v4 read access token (a JWT) in ``Authorization: Bearer``.
429 and 5xx are retried by :class:`showkeeper.net.HttpClient` honouring ``Retry-After``;
every call has an overall deadline. Answers are checked for the documented shape and
anything else is a :class:`TmdbError`, never a half-read record.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Final, Self, TypeGuard
from urllib.parse import quote, urlencode

from showkeeper.config import Settings
from showkeeper.errors import ShowkeeperError
from showkeeper.net import HttpClient, HttpStatusError, OutboundError

MAX_JSON_BYTES: Final = 5 * 1024 * 1024
CALL_DEADLINE_S: Final = 60.0
IMAGE_BASE_DEFAULT: Final = "https://image.tmdb.org/t/p/"
# A TMDB image path: "/1XS1oqL89opfnbLl8WnZY1O1uJx.jpg" (never a URL, never "..").
_IMAGE_PATH: Final = re.compile(r"^/[A-Za-z0-9_-]{1,100}\.(?:jpg|jpeg|png|webp|svg)$")
_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")


class TmdbError(ShowkeeperError):
    """TMDB could not be asked or answered badly; the message says what and what to do."""

    status_code = 502


class TmdbAuthError(TmdbError):
    """TMDB refused the key or token (HTTP 401)."""


class TmdbNotFoundError(TmdbError):
    """TMDB has no such series or season (HTTP 404)."""

    status_code = 404


class TmdbNotConfiguredError(TmdbError):
    """No TMDB key or token is set."""

    status_code = 409


def is_image_path(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and _IMAGE_PATH.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class TmdbImages:
    """Where images are served from (``configuration``)."""

    base_url: str = IMAGE_BASE_DEFAULT

    def url(self, path: str, size: str = "original") -> str:
        return f"{self.base_url.rstrip('/')}/{size}{path}"


def _credentials(settings: Settings) -> str:
    secret = settings.tmdb_api_key
    value = secret.get_secret_value().strip() if secret is not None else ""
    if not value:
        raise TmdbNotConfiguredError(
            "no TMDB key is set; set tmdb_api_key (a v3 API key or a v4 read access token)"
        )
    return value


def _want(data: Any, kind: type, what: str) -> Any:
    if not isinstance(data, kind):
        raise TmdbError(f"TMDB answered {what} in an unexpected shape; try again later")
    return data


class TmdbClient:
    """Async context manager: one HTTP session per use."""

    def __init__(
        self, settings: Settings, *, http: HttpClient | None = None, deadline_s: float = 0
    ) -> None:
        self.settings = settings
        self._secret = _credentials(settings)
        self._bearer = _JWT.fullmatch(self._secret) is not None
        self._own = http is None
        self._http = http or HttpClient(
            allowed_networks=settings.allowed_private_networks,
            per_host_limit=16,
            total_limit=32,
            connect_timeout=10,
            read_timeout=20,
            backoff_cap=30,
        )
        self.deadline_s = deadline_s or CALL_DEADLINE_S
        self.language = settings.metadata_language
        self.base = settings.tmdb_base_url.rstrip("/")
        self.requests = 0

    async def __aenter__(self) -> Self:
        if self._own:
            await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._own:
            await self._http.close()

    @property
    def http(self) -> HttpClient:
        """The session images are fetched with (same guard, same lifetime)."""
        return self._http

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        """GET ``/path`` (relative to tmdb_base_url) and return the JSON object.

        Raises:
            TmdbAuthError: 401 (bad key or token).
            TmdbNotFoundError: 404.
            TmdbError: any other failure (network, 429/5xx after retries, timeout, shape).
        """
        query = {k: v for k, v in params.items() if v is not None}
        headers = {"Accept": "application/json"}
        if self._bearer:
            headers["Authorization"] = f"Bearer {self._secret}"
        else:
            query["api_key"] = self._secret
        url = f"{self.base}{path}?{urlencode(query)}" if query else f"{self.base}{path}"
        shown = f"{self.base}{path}"  # never the key
        self.requests += 1
        try:
            async with asyncio.timeout(self.deadline_s):
                result = await self._http.fetch(url, headers=headers, max_bytes=MAX_JSON_BYTES)
        except TimeoutError:
            raise TmdbError(
                f"TMDB did not answer {shown} within {self.deadline_s:g}s; try again later"
            ) from None
        except HttpStatusError as exc:
            if exc.status == 401:
                raise TmdbAuthError(
                    "TMDB refused the key (HTTP 401); check tmdb_api_key (a v3 API key or "
                    "a v4 read access token)"
                ) from None
            if exc.status == 404:
                raise TmdbNotFoundError(f"TMDB has nothing at {shown} (HTTP 404)") from None
            raise TmdbError(
                f"TMDB answered HTTP {exc.status} for {shown}"
                f"{' after retries' if exc.attempts > 1 else ''}; try again later"
            ) from None
        except OutboundError as exc:
            raise TmdbError(f"TMDB could not be reached: {str(exc).replace(url, shown)}") from None
        try:
            data = result.json()
        except ValueError:
            raise TmdbError(f"TMDB answered {shown} with something that is not JSON") from None
        return dict(_want(data, dict, shown))

    async def configuration(self) -> TmdbImages:
        data = await self.get("/configuration")
        images = data.get("images")
        base = images.get("secure_base_url") if isinstance(images, dict) else None
        if not isinstance(base, str) or not base.startswith(("http://", "https://")):
            raise TmdbError("TMDB's configuration has no usable images.secure_base_url")
        return TmdbImages(base)

    async def search_tv(self, query: str, *, year: int | None = None) -> list[dict[str, Any]]:
        data = await self.get(
            "/search/tv",
            query=query[:200],
            first_air_date_year=year,
            include_adult="false",
            language=self.language,
            page=1,
        )
        results = _want(data.get("results"), list, "search/tv")
        return [r for r in results if isinstance(r, dict) and isinstance(r.get("id"), int)]

    async def tv(self, tv_id: int) -> dict[str, Any]:
        data = await self.get(f"/tv/{int(tv_id)}", language=self.language)
        if not isinstance(data.get("id"), int) or not isinstance(data.get("name"), str):
            raise TmdbError(f"TMDB answered tv/{tv_id} without an id and a name")
        return data

    async def season(self, tv_id: int, season: int) -> dict[str, Any]:
        data = await self.get(f"/tv/{int(tv_id)}/season/{int(season)}", language=self.language)
        _want(data.get("episodes"), list, f"tv/{tv_id}/season/{season}")
        return data

    async def images(self, tv_id: int) -> dict[str, list[dict[str, Any]]]:
        lang = self.language.split("-")[0]
        data = await self.get(
            f"/tv/{int(tv_id)}/images", include_image_language=f"{quote(lang)},null"
        )
        out: dict[str, list[dict[str, Any]]] = {}
        for name in ("posters", "backdrops", "logos"):
            items = data.get(name) or []
            out[name] = [
                i
                for i in _want(items, list, "images")
                if isinstance(i, dict) and is_image_path(i.get("file_path"))
            ]
        return out
