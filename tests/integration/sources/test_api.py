"""The sources API through the real app: 202 + loading status + events, 409, retry, refresh,
OPML import and podcast search."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from showkeeper.context import AppContext
from tests.sources_docs import itunes_results, opml, podcast_item, podcast_rss

from .conftest import Site

MALFORMED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item></channel>'


def app_ctx(app: FastAPI) -> AppContext:
    ctx: AppContext = app.state.ctx
    return ctx


async def wait_done(api: httpx.AsyncClient, key: str) -> dict[str, Any]:
    for _ in range(400):
        resp = await api.get(f"/api/series/{key}/loading-status")
        assert resp.status_code == 200, resp.text
        body: dict[str, Any] = resp.json()
        if body["status"] in ("completed", "failed"):
            return body
        await asyncio.sleep(0.025)
    raise AssertionError(f"series {key} still loading: {body}")


async def test_add_answers_202_then_loads_in_background(
    app: FastAPI, api: httpx.AsyncClient, site: Site
) -> None:
    site.put("/p.xml", podcast_rss([podcast_item(n, number=n) for n in (1, 2, 3)]))
    bus = app_ctx(app).bus
    with bus.subscribe(types=["series_loading_update"]) as sub:
        resp = await api.post("/api/series", json={"url": site.url("/p.xml")})
        assert resp.status_code == 202, resp.text
        body = resp.json()
        key = body["key"]
        assert key == "the-test-podcast" and body["status"] == "pending"  # from the title
        assert body["loading_status_url"] == f"/api/series/{key}/loading-status"
        done = await wait_done(api, key)
        statuses = []
        while (event := sub.get_nowait()) is not None:
            assert event.data["key"] == key
            if event.data.get("phase") != "metadata":  # the metadata loader's steps follow
                statuses.append(event.data["status"])
    assert done["status"] == "completed" and done["error"] is None
    assert (
        done["name"] == "The Test Podcast"
        and done["episodes"] == 3
        and done["source_kind"] == "feed"
    )
    assert statuses == ["pending", "probing", "loading_episodes", "saving", "completed"]

    again = await api.post("/api/series", json={"url": site.url("/p.xml")})
    assert again.status_code == 409 and "already has this source URL" in again.json()["detail"]
    same_key = await api.post("/api/series", json={"url": site.url("/q.xml"), "key": key})
    assert same_key.status_code == 409 and "already has this key" in same_key.json()["detail"]


async def test_bad_requests_are_400_with_the_reason(api: httpx.AsyncClient, site: Site) -> None:
    bad_regex = await api.post(
        "/api/series", json={"url": site.url("/p.xml"), "options": {"include": "a[b"}}
    )
    assert bad_regex.status_code == 400
    assert "option include is not a valid regular expression" in bad_regex.json()["detail"]
    bad_url = await api.post("/api/series", json={"url": "ftp://example.com/feed.xml"})
    assert bad_url.status_code == 400 and "only http:// and https://" in bad_url.json()["detail"]
    bad_kind = await api.post("/api/series", json={"url": site.url("/p.xml"), "kind": "torrent"})
    assert (
        bad_kind.status_code == 400 and "unknown source kind 'torrent'" in bad_kind.json()["detail"]
    )
    bad_key = await api.post("/api/series", json={"url": site.url("/p.xml"), "key": "Not A Slug"})
    assert (
        bad_key.status_code == 400 and "key 'Not A Slug' is not valid" in bad_key.json()["detail"]
    )
    missing = await api.get("/api/series/nope/loading-status")
    assert missing.status_code == 404


async def test_failed_add_then_retry(api: httpx.AsyncClient, site: Site) -> None:
    site.put("/later.xml", MALFORMED)
    key = (await api.post("/api/series", json={"url": site.url("/later.xml")})).json()["key"]
    failed = await wait_done(api, key)
    assert failed["status"] == "failed" and "not well-formed XML" in failed["error"]
    assert failed["episodes"] == 0
    refresh = await api.post(f"/api/series/{key}/refresh")
    assert refresh.status_code == 409 and "retry it" in refresh.json()["detail"]

    site.put("/later.xml", podcast_rss([podcast_item(1)]))
    retry = await api.post(f"/api/series/{key}/retry")
    assert retry.status_code == 202 and retry.json()["status"] == "pending"
    # its key came from the URL (no title was known); the retry read the title and answers
    # the readable key the series keeps from now on
    assert retry.json()["key"] == "the-test-podcast" != key
    assert (await api.get(f"/api/series/{key}/loading-status")).status_code == 404
    key = retry.json()["key"]
    done = await wait_done(api, key)
    assert done["status"] == "completed" and done["episodes"] == 1
    assert (await api.post(f"/api/series/{key}/retry")).status_code == 409
    assert (await api.post("/api/series/nope/retry")).status_code == 404


async def test_refresh_endpoints(app: FastAPI, api: httpx.AsyncClient, site: Site) -> None:
    site.put("/p.xml", podcast_rss([podcast_item(1)]), etag='"1"')
    key = (await api.post("/api/series", json={"url": site.url("/p.xml")})).json()["key"]
    await wait_done(api, key)
    site.put("/p.xml", podcast_rss([podcast_item(1), podcast_item(2)]), etag='"2"')
    with app_ctx(app).bus.subscribe(types=["episodes_added"]) as sub:
        resp = await api.post("/api/sources/refresh")
        assert resp.status_code == 202
        event = await asyncio.wait_for(sub.get(), 10)
    assert event.data["key"] == key and event.data["count"] == 1
    site.put("/p.xml", podcast_rss([podcast_item(n) for n in (1, 2, 3)]), etag='"3"')
    with app_ctx(app).bus.subscribe(types=["episodes_added"]) as sub:
        resp = await api.post(f"/api/series/{key}/refresh")
        assert resp.status_code == 202 and resp.json() == {"key": key, "status": "refreshing"}
        event = await asyncio.wait_for(sub.get(), 10)
    assert event.data["episodes"][0]["episode"] == 3
    assert (await api.post("/api/series/nope/refresh")).status_code == 404


async def test_opml_import(api: httpx.AsyncClient, site: Site) -> None:
    site.put("/one.xml", podcast_rss([podcast_item(1)], title="One"))
    site.put("/two.xml", podcast_rss([podcast_item(1), podcast_item(2)], title="Two"))
    doc = opml(
        [("One", site.url("/one.xml")), ("Two", site.url("/two.xml")), ("Bad", "gopher://x/feed")]
    )
    resp = await api.post(
        "/api/sources/import-opml", files={"file": ("subs.opml", doc, "text/x-opml")}
    )
    assert resp.status_code == 202, resp.text
    report = resp.json()
    assert [a["title"] for a in report["added"]] == ["One", "Two"]
    assert report["invalid"][0]["url"] == "gopher://x/feed"
    loaded = [await wait_done(api, a["key"]) for a in report["added"]]
    assert [(d["name"], d["episodes"]) for d in loaded] == [("One", 1), ("Two", 2)]

    again = await api.post(
        "/api/sources/import-opml", content=doc, headers={"Content-Type": "text/xml"}
    )
    assert again.status_code == 202
    assert again.json()["added"] == [] and len(again.json()["existing"]) == 2
    not_opml = await api.post(
        "/api/sources/import-opml", content=b"<rss/>", headers={"Content-Type": "text/xml"}
    )
    assert not_opml.status_code == 400 and "not OPML" in not_opml.json()["detail"]


async def test_podcast_search_against_a_local_directory(
    app: FastAPI, api: httpx.AsyncClient, site: Site
) -> None:
    import json

    site.put(
        "/search",
        json.dumps(itunes_results([("Tech Talk", "https://feeds.example/tech.xml")])).encode(),
        "text/javascript; charset=utf-8",
    )
    ctx = app_ctx(app)
    ctx.settings = ctx.settings.model_copy(update={"itunes_search_url": site.url("/search")})
    resp = await api.get("/api/sources/search", params={"q": "tech talk"})
    assert resp.status_code == 200, resp.text
    (hit,) = resp.json()["results"]
    assert hit["title"] == "Tech Talk" and hit["url"] == "https://feeds.example/tech.xml"
    assert hit["kind"] == "feed" and hit["author"] == "Host 0" and hit["episode_count"] == 10
    assert hit["image"] == "https://img.example/0/600x600bb.jpg"
    assert (await api.get("/api/sources/search", params={"q": ""})).status_code == 422
    kinds = (await api.get("/api/sources/kinds")).json()["kinds"]
    assert {"feed", "httpdir", "ytdlp"} <= set(kinds)


async def test_add_with_the_previews_title_names_the_key(
    api: httpx.AsyncClient, site: Site
) -> None:
    site.put("/t.xml", podcast_rss([podcast_item(1)]))
    preview = await api.post("/api/sources/preview", json={"url": site.url("/t.xml")})
    title = preview.json()["title"]
    resp = await api.post("/api/series", json={"url": site.url("/t.xml"), "title": title})
    assert resp.status_code == 202 and resp.json()["key"] == "the-test-podcast"
    done = await wait_done(api, "the-test-podcast")
    assert done["status"] == "completed" and done["episodes"] == 1
    site.put("/u.xml", podcast_rss([podcast_item(1)]))
    other = await api.post("/api/series", json={"url": site.url("/u.xml"), "title": title})
    assert other.json()["key"] == f"the-test-podcast-127-0-0-1-{site.url('/').split(':')[2][:-1]}"
