"""system/status, health, diskspace, rootfolder, quality and language profiles, tags."""

from __future__ import annotations

import asyncio
import platform
import shutil
import sqlite3
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from showkeeper import __version__
from showkeeper.errors import NotFoundError
from showkeeper.ffmpeg import find_ffprobe
from showkeeper.health import run_checks
from showkeeper.series import tags as tag_service
from showkeeper.web.arr.base import ArrRoute, CacheDep, JsonResponse, PathId
from showkeeper.web.arr.cache import invalidate
from showkeeper.web.arr.resources import PROFILE_ID, PROFILE_NAME
from showkeeper.web.deps import CtxDep, DbDep

router = APIRouter(prefix="/api/v3", route_class=ArrRoute, tags=["sonarr v3"])


def api_version(own: str = __version__) -> str:
    """The version clients see: ``3.`` and showkeeper's version, numbers only.

    Clients choose Sonarr's API by its version (Bazarr takes 0.x and 2.x for the old v2 API,
    tools take 4.x for "no language profiles"); showkeeper speaks v3. Its own version is in
    ``packageVersion``.
    """
    parts = [p if p.isdigit() else "0" for p in own.split("+")[0].split("-")[0].split(".")]
    return ".".join(["3", *[*parts, "0", "0", "0"][:3]])


STARTED = datetime.now(UTC)
QUALITIES = [
    (0, "Unknown", "unknown", 0),
    (1, "SDTV", "television", 480),
    (8, "WEBDL-480p", "web", 480),
    (5, "WEBDL-720p", "web", 720),
    (3, "WEBDL-1080p", "web", 1080),
    (18, "WEBDL-2160p", "web", 2160),
]


@router.get("/system/status")
async def system_status(ctx: CtxDep) -> JsonResponse:
    """What this server is (appName showkeeper), as Sonarr's system status."""
    postgres = not ctx.db.is_sqlite
    return JsonResponse(
        {
            "appName": "showkeeper",
            "instanceName": "showkeeper",
            "version": api_version(),
            "buildTime": STARTED.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "isDebug": False,
            "isProduction": True,
            "isAdmin": True,
            "isUserInteractive": False,
            "startupPath": None,
            "appData": str(ctx.settings.data_dir),
            "osName": platform.system().lower(),
            "osVersion": platform.release(),
            "isNetCore": False,
            "isLinux": platform.system() == "Linux",
            "isOsx": platform.system() == "Darwin",
            "isWindows": platform.system() == "Windows",
            "isDocker": False,
            "mode": "service",
            "branch": "main",
            "authentication": "forms",
            "sqliteVersion": None if postgres else sqlite3.sqlite_version,
            "migrationVersion": 0,
            "urlBase": "",
            "runtimeVersion": platform.python_version(),
            "runtimeName": "python",
            "startTime": STARTED.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "packageVersion": __version__,
            "packageAuthor": None,
            "packageUpdateMechanism": "external",
            "packageUpdateMechanismMessage": None,
            "databaseVersion": None,
            "databaseType": "postgreSQL" if postgres else "sqLite",
        }
    )


@router.get("/health")
async def health(ctx: CtxDep) -> JsonResponse:
    """Our checks that are not ok, as Sonarr's health list (empty when all is well)."""
    checks = await run_checks(ctx.settings, ctx.db)
    out: list[dict[str, Any]] = []
    for i, check in enumerate(checks, start=1):
        if check.status != "ok":
            out.append(
                {"id": i, "source": check.name, "type": check.status, "message": check.message}
            )
    if find_ffprobe().path is None:
        out.append(
            {
                "id": len(checks) + 1,
                "source": "ffprobe",
                "type": "warning",
                "message": "no ffprobe found: file quality and media info stay unknown",
            }
        )
    return JsonResponse(out)


def _disk(path: str) -> dict[str, Any] | None:
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return None
    return {"path": path, "label": "library", "freeSpace": usage.free, "totalSpace": usage.total}


@router.get("/diskspace")
async def diskspace(ctx: CtxDep) -> JsonResponse:
    """Free and total space of the library folder (and of data_dir when elsewhere)."""
    paths = [str(p) for p in (ctx.settings.library_dir, ctx.settings.data_dir) if p is not None]
    out: list[dict[str, Any]] = []
    seen: set[int] = set()
    for path in paths:
        disk = await asyncio.to_thread(_disk, path)
        if disk is None or (disk["totalSpace"] in seen and path != paths[0]):
            continue
        seen.add(disk["totalSpace"])
        disk["label"] = "library" if path == paths[0] else "data"
        disk["id"] = len(out) + 1
        out.append(disk)
    return JsonResponse(out)


async def _root_folder(ctx: CtxDep) -> dict[str, Any]:
    root = ctx.settings.library_dir
    if root is None:
        raise NotFoundError("no library folder is set; set library_dir")
    disk = await asyncio.to_thread(_disk, str(root))
    return {
        "id": 1,
        "path": str(root),
        "accessible": disk is not None,
        "freeSpace": disk["freeSpace"] if disk else None,
        "unmappedFolders": [],
    }


@router.get("/rootfolder")
async def root_folders(ctx: CtxDep) -> JsonResponse:
    """The library folder: showkeeper has exactly one root folder."""
    if ctx.settings.library_dir is None:
        return JsonResponse([])
    return JsonResponse([await _root_folder(ctx)])


@router.get("/rootfolder/{folder_id}")
async def root_folder(folder_id: PathId, ctx: CtxDep) -> JsonResponse:
    """The library folder (id 1)."""
    if folder_id != 1:
        raise NotFoundError(f"no root folder with id {folder_id}; the library folder is 1")
    return JsonResponse(await _root_folder(ctx))


def _quality_profile() -> dict[str, Any]:
    items = [
        {
            "quality": {"id": qid, "name": name, "source": source, "resolution": res},
            "items": [],
            "allowed": True,
        }
        for qid, name, source, res in QUALITIES
    ]
    return {
        "id": PROFILE_ID,
        "name": PROFILE_NAME,
        "upgradeAllowed": False,
        "cutoff": QUALITIES[-1][0],
        "items": items,
        "minFormatScore": 0,
        "cutoffFormatScore": 0,
        "minUpgradeFormatScore": 0,
        "formatItems": [],
    }


def _language_profile() -> dict[str, Any]:
    any_language = {"id": 0, "name": "Any"}
    return {
        "id": PROFILE_ID,
        "name": PROFILE_NAME,
        "upgradeAllowed": False,
        "cutoff": any_language,
        "languages": [{"id": 0, "language": any_language, "allowed": True}],
    }


@router.get("/qualityprofile")
async def quality_profiles() -> JsonResponse:
    """One fixed profile: showkeeper takes the best stream a source offers."""
    return JsonResponse([_quality_profile()])


@router.get("/qualityprofile/{profile_id}")
async def quality_profile(profile_id: PathId) -> JsonResponse:
    """The fixed profile (id 1)."""
    if profile_id != PROFILE_ID:
        raise NotFoundError(f"no quality profile with id {profile_id}; the only one is 1")
    return JsonResponse(_quality_profile())


@router.get("/languageprofile")
async def language_profiles() -> JsonResponse:
    """One fixed profile: the language the source publishes."""
    return JsonResponse([_language_profile()])


@router.get("/languageprofile/{profile_id}")
async def language_profile(profile_id: PathId) -> JsonResponse:
    """The fixed profile (id 1)."""
    if profile_id != PROFILE_ID:
        raise NotFoundError(f"no language profile with id {profile_id}; the only one is 1")
    return JsonResponse(_language_profile())


class TagIn(BaseModel):
    id: int | None = Field(None, ge=0, le=2**31 - 1)
    label: str = Field(min_length=1, max_length=tag_service.MAX_LABEL)


def _tag(view: tag_service.TagView) -> dict[str, Any]:
    return {"id": view.id, "label": view.label}


@router.get("/tag")
async def tags(db: DbDep) -> JsonResponse:
    """Every tag."""
    return JsonResponse([_tag(t) for t in await tag_service.list_tags(db)])


@router.get("/tag/{tag_id}")
async def tag(tag_id: PathId, db: DbDep) -> JsonResponse:
    """One tag."""
    return JsonResponse(_tag(await tag_service.get_tag(db, tag_id)))


@router.post("/tag", status_code=201)
async def create_tag(body: TagIn, db: DbDep, cache: CacheDep) -> JsonResponse:
    """Create a tag (an existing label answers the existing tag)."""
    created = await tag_service.create_tag(db, body.label)
    invalidate(cache)
    return JsonResponse(_tag(created), status_code=201)


@router.put("/tag", status_code=202)
async def rename_tag_by_body(body: TagIn, db: DbDep, cache: CacheDep) -> JsonResponse:
    """Rename the tag whose id is in the body (pyarr's form)."""
    if body.id is None:
        raise NotFoundError("give the tag's id in the body, or PUT /api/v3/tag/{id}")
    renamed = await tag_service.rename_tag(db, body.id, body.label)
    invalidate(cache)
    return JsonResponse(_tag(renamed), 202)


@router.put("/tag/{tag_id}", status_code=202)
async def rename_tag(tag_id: PathId, body: TagIn, db: DbDep, cache: CacheDep) -> JsonResponse:
    """Rename a tag."""
    renamed = await tag_service.rename_tag(db, tag_id, body.label)
    invalidate(cache)
    return JsonResponse(_tag(renamed), 202)


@router.delete("/tag/{tag_id}")
async def delete_tag(tag_id: PathId, db: DbDep, cache: CacheDep) -> JsonResponse:
    """Delete a tag and take it off every series."""
    await tag_service.delete_tag(db, tag_id)
    invalidate(cache)
    return JsonResponse({})
