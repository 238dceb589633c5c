"""Canary listeners on [::1] and 127.0.0.2 that count every request: with
allowed_private_networks = 127.0.0.1/32 they must never be reached."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Canary:
    hits: list[str] = field(default_factory=list)
    urls: dict[str, str] = field(default_factory=dict)
    """"v6" and "v4": base URLs of the listeners."""
    _runners: list[web.AppRunner] = field(default_factory=list)

    async def start(self, media: bytes) -> None:
        async def handle(request: web.Request) -> web.StreamResponse:
            self.hits.append(f"{request.host} {request.method} {request.path}")
            if request.path.endswith(".m3u8"):
                return web.Response(
                    text="#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nseg.ts\n#EXT-X-ENDLIST\n",
                    content_type="application/vnd.apple.mpegurl",
                )
            if request.path.endswith(".xml"):
                return web.Response(text="<rss><channel><title>c</title></channel></rss>")
            return web.Response(body=media, content_type="video/mp4")

        for key, host in (("v6", "::1"), ("v4", "127.0.0.2")):
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, 0)
            await site.start()
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            self.urls[key] = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
            self._runners.append(runner)

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
