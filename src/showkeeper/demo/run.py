"""Run the demo: sample media, a sample library, the sample sources, setup done, the server.

What the demo adds it adds through the same service functions the API calls (start_add,
start_scan, enqueue_series); the engine does not know it is a demo.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

from showkeeper.demo.media import DemoMedia, prepare_media
from showkeeper.demo.site import DemoSite

Say = Callable[[str], None]
CREDENTIALS = "demo-credentials.txt"
SITE_PORT = "demo-site-port"


def seed_library(library: Path, media: DemoMedia) -> None:
    """A series already on disk (as a user's library would have): two episodes and a legacy
    key file, so the first scan has something to find."""
    folder = library / "Garden Notes (2022)"
    if folder.exists():
        return
    season = folder / "Season 01"
    season.mkdir(parents=True)
    for n in (1, 2):
        shutil.copyfile(media.dir_clip(n), season / f"Garden Notes - S01E{n:02d}.mp4")
    (folder / "key").write_text("garden-notes\n", encoding="utf-8")


def _free_port(preferred: int | None) -> int:
    for port in (preferred, 0):
        if port is None:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _site_port(data_dir: Path) -> int:
    """The same port as last time when it is free, so the sample sources keep their URLs."""
    stored = data_dir / SITE_PORT
    try:
        preferred: int | None = int(stored.read_text().strip())
    except (OSError, ValueError):
        preferred = None
    port = _free_port(preferred)
    stored.write_text(f"{port}\n", encoding="utf-8")
    return port


async def _set_up(settings: Any, library: Path) -> str | None:
    """Setup as /setup does it: the library folder in config.json, the admin with a password.
    Returns the new password, or None when the admin exists already."""
    from showkeeper.auth import api_keys
    from showkeeper.auth.users import ADMIN, create_user, user_count
    from showkeeper.config_store import ConfigStore
    from showkeeper.context import prepare_storage

    stored = ConfigStore(settings.data_dir).read()
    if stored.get("library_dir") != str(library):
        ConfigStore(settings.data_dir).set("library_dir", str(library))
    db = await prepare_storage(settings)
    try:
        async with db.session() as s:
            if await user_count(s) > 0:
                return None
        password = secrets.token_urlsafe(12)
        async with db.write() as s:
            user = await create_user(s, username=ADMIN, password=password)
            await api_keys.create_key(s, user_id=user.id)
        return password
    finally:
        await db.dispose()


async def _add_sources(ctx: Any, site: DemoSite, say: Say) -> None:
    """Scan the library, add the three sample series, queue the feed's episodes once known."""
    from showkeeper.downloads.service import enqueue_series
    from showkeeper.errors import ConflictError, ShowkeeperError
    from showkeeper.library.service import start_scan
    from showkeeper.series.service import get_series
    from showkeeper.sources.service import start_add

    with contextlib.suppress(ShowkeeperError):
        await start_scan(ctx)
    added: list[str] = []
    for key, url in (
        ("open-sky", site.feed_url),
        ("night-lanes", site.hls_feed_url),
        ("harbor-walks", site.directory_url),
    ):
        try:
            row = await start_add(ctx, url, key=key)
        except ConflictError:
            continue  # added on an earlier run
        added.append(row.key)
    if not added:
        return
    say(f"adding {len(added)} sample series; their episodes load in the background")
    feed_key = added[0]
    for _ in range(600):
        status = (await get_series(ctx.db, feed_key))["loading_status"]
        if status in ("completed", "failed"):
            break
        await asyncio.sleep(0.2)
    if status == "completed":
        result = await enqueue_series(ctx, feed_key)
        say(f"queued {len(result.item_ids)} episodes of {feed_key}: watch them on the Queue page")


async def serve_demo(data_dir: Path, port: int, say: Say) -> None:
    """Make everything the demo needs, then serve until interrupted."""
    import uvicorn

    from showkeeper.config import load_settings
    from showkeeper.errors import StartupError
    from showkeeper.logging import setup_logging
    from showkeeper.web.app import create_app

    if _free_port(port) != port:
        raise StartupError(
            f"port {port} on 127.0.0.1 is already in use; choose another with --port"
        )
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    library = data_dir / "library"
    media = await asyncio.to_thread(prepare_media, data_dir / "demo-media", say)
    await asyncio.to_thread(seed_library, library, media)
    site = DemoSite(media, port=_site_port(data_dir))
    await site.start()
    settings = load_settings(
        env_file=None,
        data_dir=data_dir,
        host="127.0.0.1",
        port=port,
        # the demo's own sources are the only private address the engine may reach
        allowed_private_networks="127.0.0.1/32",
        log_level="WARNING",
    )
    setup_logging(settings.log_level, logs_dir=settings.logs_dir, console_format="console")
    password = await _set_up(settings, library)
    creds = data_dir / CREDENTIALS
    if password is not None:
        creds.write_text(f"password: {password}\n", encoding="utf-8")
        os.chmod(creds, 0o600)
    shown = creds.read_text(encoding="utf-8").strip() if creds.exists() else "(unchanged)"
    app = create_app(settings.model_copy(update={"library_dir": library}))
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if serving.done():
                await serving  # a start-up failure: raise it
                return
            await asyncio.sleep(0.05)
        say(f"showkeeper demo: http://127.0.0.1:{port}/  (user admin, {shown})")
        say(f"sample sources: {site.feed_url}  {site.hls_feed_url}  {site.directory_url}")
        say(f"data folder: {data_dir}  ·  Ctrl-C stops the demo")
        await _add_sources(app.state.ctx, site, say)
        await serving
    finally:
        if not serving.done():
            server.should_exit = True
            await serving
        await site.stop()
