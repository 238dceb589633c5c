"""The TMDB client against the local TMDB-shaped server: auth modes, errors, shapes, limits."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from showkeeper.config import Settings
from showkeeper.metadata.tmdb import (
    TmdbAuthError,
    TmdbClient,
    TmdbError,
    TmdbNotConfiguredError,
    TmdbNotFoundError,
)
from tests.metadata_site import API_KEY, TMDB_ID, V4_TOKEN, Answer, MetaSite

from .conftest import with_tmdb


async def test_v3_key_goes_in_the_query_v4_token_in_a_header(
    settings: Settings, site: MetaSite
) -> None:
    async with TmdbClient(with_tmdb(settings, site)) as tmdb:
        found = await tmdb.search_tv("Kestrel Bay")
        images = await tmdb.configuration()
    assert [r["id"] for r in found] == [TMDB_ID, 90211, 90212]
    assert images.url("/x.jpg", "w342") == f"{site.base}/t/p/w342/x.jpg"
    assert site.auth_seen == [f"api_key={API_KEY}"] * 2
    async with TmdbClient(with_tmdb(settings, site, V4_TOKEN)) as tmdb:
        show = await tmdb.tv(TMDB_ID)
        season = await tmdb.season(TMDB_ID, 1)
        pictures = await tmdb.images(TMDB_ID)
    assert show["name"] == "Kestrel Bay" and len(season["episodes"]) == 2
    assert [p["file_path"] for p in pictures["logos"]] == [
        "/kestrelLogoFr.png",
        "/kestrelLogoEn.png",
    ]
    assert site.auth_seen[2:] == [f"Bearer {V4_TOKEN}"] * 3


async def test_errors_are_typed_and_never_show_the_key(settings: Settings, site: MetaSite) -> None:
    async with TmdbClient(with_tmdb(settings, site, "bad-key")) as tmdb:
        with pytest.raises(TmdbAuthError, match="HTTP 401") as refused:
            await tmdb.tv(TMDB_ID)
    assert "bad-key" not in str(refused.value)
    async with TmdbClient(with_tmdb(settings, site)) as tmdb:
        with pytest.raises(TmdbNotFoundError):
            await tmdb.tv(1)
        site.tmdb_script[f"/tv/{TMDB_ID}"] = [Answer(200, b"[1, 2]"), Answer(200, b"<html>")]
        with pytest.raises(TmdbError, match="unexpected shape"):
            await tmdb.tv(TMDB_ID)
        with pytest.raises(TmdbError, match="not JSON"):
            await tmdb.tv(TMDB_ID)
        site.tmdb_script["/configuration"] = [
            Answer(200, b'{"images": {"secure_base_url": "ftp://x"}}')
        ]
        with pytest.raises(TmdbError, match="secure_base_url"):
            await tmdb.configuration()
    with pytest.raises(TmdbNotConfiguredError):
        TmdbClient(settings)
    with pytest.raises(TmdbNotConfiguredError):
        TmdbClient(settings.model_copy(update={"tmdb_api_key": SecretStr("  ")}))


async def test_rate_limits_are_honoured_and_slow_answers_bounded(
    settings: Settings, site: MetaSite
) -> None:
    site.tmdb_script["/search/tv"] = [Answer(429, b"{}", {"Retry-After": "0"})] * 2
    async with TmdbClient(with_tmdb(settings, site)) as tmdb:
        assert len(await tmdb.search_tv("Kestrel Bay")) == 3
    assert site.tmdb_requests.count("/search/tv") == 3
    site.tmdb_delay = 5
    async with TmdbClient(with_tmdb(settings, site), deadline_s=0.3) as tmdb:
        with pytest.raises(TmdbError, match="did not answer"):
            await tmdb.configuration()


async def test_language_is_sent(settings: Settings, site: MetaSite) -> None:
    german = with_tmdb(settings, site).model_copy(update={"metadata_language": "de-DE"})
    async with TmdbClient(german) as tmdb:
        await tmdb.search_tv("Kestrel", year=2017)
        await tmdb.images(TMDB_ID)
    assert site.tmdb_queries[0] == {
        "query": "Kestrel",
        "first_air_date_year": "2017",
        "include_adult": "false",
        "language": "de-DE",
        "page": "1",
    }
    assert site.tmdb_queries[1] == {"include_image_language": "de,null"}
