"""A podcast feed server for bench/peer_feed.py: asyncio streams on 127.0.0.1, a process.

It serves `/feed.xml` (RSS 2.0, one item per `*.mp4` of its directory, newest first, with
enclosure url, type video/mp4 and length) and `/media/<name>.mp4`. It waits `latency` before
every answer and writes every body at `rate` bytes per second per response; it honours Range
(and If-Range), answers If-None-Match / If-Modified-Since with 304 (ETag and Last-Modified on
everything), keeps connections alive (HTTP/1.1). It counts requests (method, path, status,
conditional or not), connections and the most connections open at once, at the level of the
sockets: no framework in between decides for it.

Run: python -m tests.integration.downloads.feed_server --dir DIR [--latency-ms 50] [--rate-mb 4]
prints `PORT <n>` once listening; then reads commands on stdin, one a line: `stats` answers
one JSON line, `reset` (after the previous client's connections have closed) answers `OK`.
`FeedProcess` runs it and speaks that protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import hashlib
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

MB = 1_000_000


@dataclass
class Served:
    body: bytes | Path
    content_type: str
    etag: str
    last_modified: float

    @property
    def size(self) -> int:
        return len(self.body) if isinstance(self.body, bytes) else self.body.stat().st_size


@dataclass
class Stats:
    requests: list[dict[str, Any]] = field(default_factory=list)
    connections: int = 0
    open: int = 0
    max_open: int = 0

    def reset(self) -> None:
        self.requests, self.connections, self.max_open = [], 0, self.open

    def summary(self) -> dict[str, Any]:
        media = [r for r in self.requests if r["path"].startswith("/media/")]
        return {
            "requests": len(self.requests),
            "by_method": {m: sum(r["method"] == m for r in self.requests) for m in ("GET", "HEAD")},
            "media_gets": sum(r["method"] == "GET" and r["status"] in (200, 206) for r in media),
            "conditional": sum(r["conditional"] for r in self.requests),
            "not_modified": sum(r["status"] == 304 for r in self.requests),
            "connections": self.connections,
            "max_connections": self.max_open,
            "log": [f"{r['method']} {r['path']} {r['status']}" for r in self.requests],
            "times": [r["at"] for r in self.requests],
        }


def feed_xml(base: str, files: dict[str, Served], published: float) -> bytes:
    items = []
    for n, (path, served) in enumerate(sorted(files.items()), start=1):
        date = email.utils.formatdate(published - (len(files) - n) * 86400, usegmt=True)
        items.append(
            f'<item><title>Episode {n}</title><guid isPermaLink="false">peer-{n}</guid>'
            f"<pubDate>{date}</pubDate><itunes:season>1</itunes:season>"
            f"<itunes:episode>{n}</itunes:episode><description>Episode {n} of the peer feed."
            f'</description><enclosure url="{escape(base + path)}" type="video/mp4" '
            f'length="{served.size}"/></item>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"><channel>'
        f"<title>Peer Feed</title><link>{escape(base)}/</link>"
        f"<description>{len(files)} episodes for bench/peer_feed.py</description>"
        "<language>en</language>" + "".join(reversed(items)) + "</channel></rss>"
    ).encode()


class FeedServer:
    def __init__(self, directory: Path, latency: float, rate: float) -> None:
        self.directory, self.latency, self.rate = directory, latency, rate
        self.stats = Stats()
        self.files: dict[str, Served] = {}
        for path in sorted(directory.glob("*.mp4")):
            mtime = path.stat().st_mtime
            tag = f'"{hashlib.sha256(path.name.encode()).hexdigest()[:16]}-{int(mtime)}"'
            self.files[f"/media/{path.name}"] = Served(path, "video/mp4", tag, mtime)

    def add_feed(self, base: str) -> None:
        now = time.time()
        body = feed_xml(base, self.files, now)
        etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
        self.files["/feed.xml"] = Served(body, "application/rss+xml", etag, now - 3600)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.stats.connections += 1
        self.stats.open += 1
        self.stats.max_open = max(self.stats.max_open, self.stats.open)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, target, version = [*lines[0].split(" "), "", "", ""][:3]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                if int(headers.get("content-length", "0") or 0):
                    await reader.readexactly(int(headers["content-length"]))
                connection = headers.get("connection", "").lower()
                keep = connection != "close" and (
                    version == "HTTP/1.1" or connection == "keep-alive"
                )
                await asyncio.sleep(self.latency)
                await self.respond(writer, method, target.split("?", 1)[0], headers, keep)
                if not keep:
                    return
        except ConnectionError:
            return
        finally:
            self.stats.open -= 1
            writer.close()

    async def respond(
        self,
        writer: asyncio.StreamWriter,
        method: str,
        path: str,
        headers: dict[str, str],
        keep: bool,
    ) -> None:
        served = self.files.get(path)
        conditional = "if-none-match" in headers or "if-modified-since" in headers
        record = {
            "method": method,
            "path": path,
            "status": 0,
            "conditional": conditional,
            "at": time.time(),  # when the answer began (after the latency)
        }
        self.stats.requests.append(record)
        out = {"Date": email.utils.formatdate(usegmt=True)}
        out["Connection"] = "keep-alive" if keep else "close"
        if served is None or method not in ("GET", "HEAD"):
            status = 404 if served is None else 405
            record["status"] = status
            await self.write(writer, status, out, b"", method)
            return
        out["ETag"] = served.etag
        out["Last-Modified"] = email.utils.formatdate(served.last_modified, usegmt=True)
        out["Accept-Ranges"] = "bytes"
        out["Content-Type"] = served.content_type
        if not_modified(headers, served):
            record["status"] = 304
            await self.write(writer, 304, out, b"", method)
            return
        size, start, end, status = served.size, 0, served.size, 200
        wanted = headers.get("range", "")
        if_range = headers.get("if-range")
        if wanted.startswith("bytes=") and if_range in (None, served.etag, out["Last-Modified"]):
            first, _, last = wanted[6:].partition("-")
            if first.isdigit() and (last.isdigit() or not last):
                if int(first) >= size:
                    record["status"] = 416
                    out["Content-Range"] = f"bytes */{size}"
                    await self.write(writer, 416, out, b"", method)
                    return
                start, end = int(first), min(size, int(last) + 1 if last else size)
                status = 206
                out["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        record["status"] = status
        out["Content-Length"] = str(end - start)
        await self.write(writer, status, out, None, method)
        if method == "GET":
            await self.send_body(writer, served, start, end)

    async def write(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        headers: dict[str, str],
        body: bytes | None,
        method: str,
    ) -> None:
        reasons = {200: "OK", 206: "Partial Content", 304: "Not Modified", 404: "Not Found"}
        reasons |= {405: "Method Not Allowed", 416: "Range Not Satisfiable"}
        if body is not None and status != 304:
            headers["Content-Length"] = str(len(body))
        head = f"HTTP/1.1 {status} {reasons[status]}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        writer.write(head.encode("latin-1") + (body if body and method == "GET" else b""))
        await writer.drain()

    async def send_body(
        self, writer: asyncio.StreamWriter, served: Served, start: int, end: int
    ) -> None:
        """Write [start, end) at `rate` bytes per second (the throttle is per response)."""
        loop = asyncio.get_running_loop()
        began, position, chunk = loop.time(), start, 64 * 1024
        with contextlib.ExitStack() as stack:
            fh = (
                None
                if isinstance(served.body, bytes)
                else stack.enter_context(open(served.body, "rb"))
            )
            if fh is not None:
                fh.seek(start)
            while position < end:
                n = min(chunk, end - position)
                data = served.body[position : position + n] if fh is None else fh.read(n)  # type: ignore[index]
                writer.write(data)
                await writer.drain()
                position += n
                ahead = (position - start) / self.rate - (loop.time() - began)
                if ahead > 0:
                    await asyncio.sleep(ahead)


def not_modified(headers: dict[str, str], served: Served) -> bool:
    if "if-none-match" in headers:
        tags = [t.strip() for t in headers["if-none-match"].split(",")]
        return "*" in tags or served.etag in tags or f"W/{served.etag}" in tags
    since = headers.get("if-modified-since")
    if since:
        with contextlib.suppress(TypeError, ValueError):
            return int(served.last_modified) <= email.utils.parsedate_to_datetime(since).timestamp()
    return False


async def serve_feed(directory: Path, latency: float, rate: float) -> None:
    """The server process: `PORT n` once listening; then `stats` and `reset` on stdin."""
    server = FeedServer(directory, latency, rate)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    server.add_feed(f"http://127.0.0.1:{port}")
    print(f"PORT {port}", flush=True)
    loop = asyncio.get_running_loop()
    while command := (await loop.run_in_executor(None, sys.stdin.readline)).strip():
        if command == "stats":
            print(json.dumps(server.stats.summary()), flush=True)
        elif command == "reset":
            for _ in range(200):  # the last run's connections are closing: let them go first
                if not server.stats.open:
                    break
                await asyncio.sleep(0.01)
            server.stats.reset()
            print("OK", flush=True)
    listener.close()


class FeedProcess:
    """The server as a child process (killed by `close`)."""

    def __init__(self, directory: Path, latency: float, rate: float) -> None:
        args = [sys.executable, "-m", "tests.integration.downloads.feed_server"]
        args += ["--dir", str(directory), "--latency-ms", str(latency * 1000)]
        args += ["--rate-mb", str(rate / MB)]
        root = Path(__file__).resolve().parents[3]
        self.proc = subprocess.Popen(
            args, cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        line = self.ask("")
        if not line.startswith("PORT "):
            self.proc.kill()
            sys.exit(f"feed server did not start: {line!r}")
        self.url = f"http://127.0.0.1:{line.split()[1]}/feed.xml"

    def ask(self, command: str) -> str:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        if command:
            self.proc.stdin.write(command + "\n")
        return self.proc.stdout.readline().strip()

    def stats(self) -> dict[str, Any]:
        return json.loads(self.ask("stats"))

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--rate-mb", type=float, default=4, help="MB/s per response")
    args = parser.parse_args(argv)
    asyncio.run(serve_feed(args.dir, args.latency_ms / 1000, args.rate_mb * MB))


if __name__ == "__main__":
    main()
