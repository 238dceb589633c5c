"""Local media servers and test media for the download tests and benches.

`MediaServer` is a real aiohttp server on 127.0.0.1 whose resources can misbehave on
purpose: throttle each connection, ignore Range, cut the body short, answer 404, serve HTML,
hand out hostile Content-Disposition names. Every request is recorded.

Run it as a process (used by bench/):
    python -m tests.integration.downloads.servers --dir DIR [--delay S] [--rate BYTES_PER_S]
prints `PORT <n>` once listening.

Media helpers build real HLS streams and MP4 files with ffmpeg.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from showkeeper.ffmpeg import ffmpeg_exe

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".ts": "video/mp2t",
    ".mp4": "video/mp4",
    ".m4s": "video/iso.segment",
    ".key": "application/octet-stream",
    ".html": "text/html",
}


@dataclass
class Resource:
    """One served resource and how it (mis)behaves."""

    body: bytes | Path
    content_type: str = "application/octet-stream"
    status: int = 200
    rate: float | None = None
    """Bytes per second for each response (None: as fast as possible)."""
    ignore_range: bool = False
    cut_after: int | None = None
    """Close the connection after this many body bytes..."""
    cut_times: int = 0
    """...for this many GET responses."""
    chunked: bool = False
    """Send no Content-Length (chunked transfer encoding)."""
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    head_status: int | None = None
    """Answer HEAD with this status instead (servers that refuse HEAD)."""

    @property
    def size(self) -> int:
        return len(self.body) if isinstance(self.body, bytes) else self.body.stat().st_size

    def read(self, offset: int, length: int) -> bytes:
        if isinstance(self.body, bytes):
            return self.body[offset : offset + length]
        with open(self.body, "rb") as fh:
            fh.seek(offset)
            return fh.read(length)


@dataclass
class Request:
    """A request the server saw."""

    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    peer: int = 0
    """The client's port: requests with the same one came over the same connection."""


class MediaServer:
    """A misbehaving-on-demand HTTP server on 127.0.0.1 (async context manager)."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.dirs: list[tuple[str, Path, Resource]] = []
        self.requests: list[Request] = []
        self.bytes_sent = 0
        """Body bytes written by throttled/cut/chunked responses (not plain file responses)."""
        self._runner: web.AppRunner | None = None
        self.port = 0

    def add(self, path: str, resource: Resource) -> str:
        self.resources[path] = resource
        return self.url(path)

    def add_dir(self, prefix: str, directory: Path, **options: object) -> str:
        """Serve the files of ``directory`` under ``prefix`` with ``options`` (Resource fields)."""
        template = Resource(body=b"", **options)  # type: ignore[arg-type]
        self.dirs.append((prefix.rstrip("/") + "/", directory, template))
        return self.url(prefix.rstrip("/") + "/")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def requests_for(self, path: str, method: str | None = None) -> list[Request]:
        return [
            r for r in self.requests if r.path == path and (method is None or r.method == method)
        ]

    async def start(self, port: int = 0) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> MediaServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _lookup(self, path: str) -> Resource | None:
        if path in self.resources:
            return self.resources[path]
        for prefix, directory, template in self.dirs:
            if path.startswith(prefix):
                name = path[len(prefix) :]
                target = (directory / name).resolve()
                if not target.is_relative_to(directory.resolve()) or not target.is_file():
                    return None
                content_type = _TYPES.get(target.suffix, "application/octet-stream")
                return Resource(
                    body=target,
                    content_type=content_type,
                    rate=template.rate,
                    delay=template.delay,
                    ignore_range=template.ignore_range,
                )
        return None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        record = Request(
            request.method, request.path, dict(request.headers), peer=peer[1] if peer else 0
        )
        self.requests.append(record)
        resource = self._lookup(request.path)
        if resource is None:
            record.status = 404
            return web.Response(status=404, text="not found")
        if resource.delay:
            await asyncio.sleep(resource.delay)
        if request.method == "HEAD" and resource.head_status is not None:
            record.status = resource.head_status
            return web.Response(status=resource.head_status)
        if resource.status != 200:
            record.status = resource.status
            return web.Response(
                status=resource.status, text=f"status {resource.status}", headers=resource.headers
            )
        size = resource.size
        start, end = 0, size
        status = 200
        wanted = request.headers.get("Range")
        if_range = request.headers.get("If-Range")
        honour = not resource.ignore_range and (if_range is None or if_range == resource.etag)
        if wanted and honour:
            match = _RANGE.match(wanted)
            if match:
                first = int(match.group(1))
                last = int(match.group(2)) if match.group(2) else size - 1
                if first >= size:
                    record.status = 416
                    return web.Response(status=416, headers={"Content-Range": f"bytes */{size}"})
                start, end, status = first, min(last + 1, size), 206
        headers = {"Content-Type": resource.content_type, **resource.headers}
        if not resource.ignore_range:
            headers["Accept-Ranges"] = "bytes"
        if resource.etag:
            headers["ETag"] = resource.etag
        if status == 206:
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        record.status = status
        response = web.StreamResponse(status=status, headers=headers)
        if not resource.chunked:
            response.content_length = end - start
        if request.method == "HEAD":
            await response.prepare(request)
            return response
        if isinstance(resource.body, Path) and not (
            resource.rate or resource.cut_times or resource.chunked or resource.headers
        ):
            # A well-behaved file: aiohttp's own sendfile path, ranges included.
            return web.FileResponse(resource.body, headers=headers)
        await response.prepare(request)
        cut = None
        if resource.cut_times > 0 and resource.cut_after is not None:
            resource.cut_times -= 1
            cut = start + resource.cut_after
        # The client may go away (a stolen range, a kill -9): not the server's problem.
        with contextlib.suppress(ConnectionError):
            await self._send(request, response, resource, start, end, cut)
        return response

    async def _send(
        self,
        request: web.Request,
        response: web.StreamResponse,
        resource: Resource,
        start: int,
        end: int,
        cut: int | None,
    ) -> None:
        chunk = 64 * 1024 if resource.rate else 1024 * 1024
        loop = asyncio.get_running_loop()
        began = loop.time()
        position = start
        while position < end:
            stop = min(end, position + chunk)
            if cut is not None and stop >= cut:
                await response.write(resource.read(position, cut - position))
                self.bytes_sent += cut - position
                assert request.transport is not None
                request.transport.close()  # the body ends early, mid-stream
                return
            await response.write(resource.read(position, stop - position))
            self.bytes_sent += stop - position
            position = stop
            if resource.rate:
                ahead = (position - start) / resource.rate - (loop.time() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)
        await response.write_eof()


# -- media --------------------------------------------------------------------------------


@functools.cache
def _codecs() -> tuple[list[str], list[str]]:
    encoders = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-encoders"], capture_output=True, text=True, check=False
    ).stdout
    if " libx264 " in encoders and " aac " in encoders:
        return ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"], ["-c:a", "aac"]
    return ["-c:v", "mpeg2video", "-q:v", "5"], ["-c:a", "mp2"]


def _sources(
    seconds: float, size: str, rate: int, frequency: int, noise: bool = False
) -> list[str]:
    video = f"testsrc=size={size}:rate={rate}" + (",noise=alls=60:allf=t+u" if noise else "")
    return [
        "-f", "lavfi", "-i", video,
        "-f", "lavfi", "-i", f"sine=frequency={frequency}:sample_rate=44100",
        "-t", str(seconds),
    ]  # fmt: skip


def make_hls(
    out_dir: Path,
    *,
    seconds: float = 6,
    size: str = "160x120",
    hls_time: float = 1,
    name: str = "index.m3u8",
    key: bytes | None = None,
    key_uri: str = "enc.key",
    iv: str | None = None,
    frequency: int = 440,
    noise: bool = False,
    fmp4: bool = False,
) -> Path:
    """Encode a test stream into an HLS playlist (+ segments) in ``out_dir``; returns it.

    ``noise`` makes the video incompressible (large segments)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    video, audio = _codecs()
    stem = Path(name).stem
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    args += _sources(seconds, size, 25, frequency, noise)
    args += [*video, "-g", "25", "-keyint_min", "25", "-sc_threshold", "0", *audio]
    args += ["-f", "hls", "-hls_time", str(hls_time), "-hls_list_size", "0"]
    if fmp4:  # fragmented MP4 segments after an EXT-X-MAP init section
        args += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", f"{stem}_init.mp4"]
        args += ["-hls_segment_filename", str(out_dir / f"{stem}_%04d.m4s")]
    else:
        args += ["-hls_segment_filename", str(out_dir / f"{stem}_%04d.ts")]
    if key is not None:
        key_file = out_dir / f"{stem}.keybin"
        key_file.write_bytes(key)
        info = out_dir / f"{stem}.keyinfo"
        info.write_text(f"{key_uri}\n{key_file}\n" + (f"{iv}\n" if iv else ""))
        args += ["-hls_key_info_file", str(info)]
    args.append(str(out_dir / name))
    subprocess.run(args, check=True)
    return out_dir / name


def make_media(path: Path, *, seconds: float = 2, size: str = "160x120") -> Path:
    """Encode a small MP4 (or any container by suffix) with video and audio."""
    video, audio = _codecs()
    args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
    args += [*_sources(seconds, size, 25, 440), *video, *audio, str(path)]
    subprocess.run(args, check=True)
    return path


def duration_of(path: Path) -> float:
    """The duration ffmpeg reports for ``path``."""
    err = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-i", str(path)], capture_output=True, text=True
    ).stderr
    match = re.search(r"Duration:\s*(\d+):(\d\d):(\d\d(?:\.\d+)?)", err)
    assert match, err
    h, m, s = match.groups()
    return int(h) * 3600 + int(m) * 60 + float(s)


def decode_errors(path: Path) -> str:
    """What ``ffmpeg -v error -i path -f null -`` prints (empty when every frame decodes)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return result.stderr.strip() + (
        "" if result.returncode == 0 else f" (exit {result.returncode})"
    )


def playlist_duration(playlist: Path) -> float:
    """Sum of a media playlist's #EXTINF durations."""
    return sum(
        float(line.split(":", 1)[1].split(",", 1)[0])
        for line in playlist.read_text().splitlines()
        if line.startswith("#EXTINF:")
    )


# -- as a process -------------------------------------------------------------------------


async def _serve(directory: Path, delay: float, rate: float | None, port: int) -> None:
    server = MediaServer()
    server.add_dir("/", directory, delay=delay, rate=rate)
    await server.start(port)
    server.requests = _Discard()  # type: ignore[assignment]
    print(f"PORT {server.port}", flush=True)
    await asyncio.Event().wait()


class _Discard(list[Request]):
    """A request log that keeps nothing (long benches)."""

    def append(self, item: Request) -> None:
        pass


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--rate", type=float, default=None, help="bytes/s per connection")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        asyncio.run(_serve(args.dir, args.delay, args.rate, args.port))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()


# -- the fetch command as a process ---------------------------------------------------------


def fetch_argv(url: str, out: Path, *extra: str) -> list[str]:
    """argv of `python -m showkeeper fetch URL -o OUT`."""
    return [sys.executable, "-m", "showkeeper", "fetch", url, "-o", str(out), *extra]


def fetch_env(data_dir: Path, *, connections: int | None = None) -> dict[str, str]:
    """Environment for a fetch process: loopback allowed, its own data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOWKEEPER_")}
    env["SHOWKEEPER_DATA_DIR"] = str(data_dir)
    env["SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"] = "127.0.0.0/8"
    env["SHOWKEEPER_LOG_LEVEL"] = "WARNING"
    if connections is not None:
        env["SHOWKEEPER_DOWNLOAD_CONNECTIONS"] = str(connections)
    return env


@functools.cache
def _small_media() -> bytes:
    """A one-second MP4 (moov first), made once per process."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.mp4"
        video, audio = _codecs()
        args = [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y"]
        args += [*_sources(1, "160x120", 25, 440), *video, *audio, "-movflags", "+faststart"]
        subprocess.run([*args, str(path)], check=True)
        return path.read_bytes()


def media_bytes(size: int) -> bytes:
    """A real MP4 padded with random bytes to ``size`` (at least the MP4 itself).

    The download engine accepts only media (magic bytes and an audio/video stream with a
    duration, downloads/verify.py); an MP4 with its index first stays readable with any
    trailing bytes, so transfer tests can still use large, incompressible bodies.
    """
    head = _small_media()
    return head + os.urandom(max(0, size - len(head)))
