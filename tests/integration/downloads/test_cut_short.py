"""Item 8: a body cut short is never saved as complete, when the response gives no length
(no Content-Length, no chunked encoding, no Accept-Ranges) but the probe learned one."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from tests.integration.downloads.servers import fetch_argv, fetch_env, make_media


async def close_delimited_server(body: bytes, announced: int) -> tuple[asyncio.Server, str]:
    """HEAD announces `announced` bytes; GET sends `body` with no length and closes."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nConnection: close\r\n"
        if request.startswith(b"HEAD "):
            writer.write(head + f"Content-Length: {announced}\r\n\r\n".encode())
        else:
            writer.write(head + b"\r\n" + body)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}/episode.mp4"


async def _fetch(url: str, out: Path, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        fetch_argv(url, out),
        env=fetch_env(data_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_a_body_shorter_than_the_probe_said_is_not_saved(tmp_path: Path) -> None:
    media = make_media(tmp_path / "src.mp4", seconds=2).read_bytes()
    server, url = await close_delimited_server(media, announced=len(media) * 6)
    try:
        out = tmp_path / "out" / "episode.mp4"
        result = await _fetch(url, out, tmp_path / "data")
    finally:
        server.close()
        await server.wait_closed()
    assert result.returncode != 0, result.stdout + result.stderr
    assert "saved" not in result.stdout
    assert "ended early" in result.stdout + result.stderr
    assert not out.exists()


async def test_a_complete_close_delimited_body_is_saved(tmp_path: Path) -> None:
    media = make_media(tmp_path / "src.mp4", seconds=2).read_bytes()
    server, url = await close_delimited_server(media, announced=len(media))
    try:
        out = tmp_path / "out" / "episode.mp4"
        result = await _fetch(url, out, tmp_path / "data")
    finally:
        server.close()
        await server.wait_closed()
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes() == media
