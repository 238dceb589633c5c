"""A SOCKS5 proxy on 127.0.0.1 that applies the address guard to every connection it makes.

yt-dlp has its own HTTP stack: its page fetches, redirects, fragment and media requests
never pass through :class:`showkeeper.net.HttpClient`. Each yt-dlp run is therefore given
``proxy: socks5h://127.0.0.1:<port>`` of one of these: yt-dlp hands every connection, by host
name, to the proxy (its urllib, requests and websocket handlers all speak SOCKS), and the
proxy resolves the name and connects only to addresses :func:`resolve_and_check` accepts:
the same rule, applied at connect time, so neither a redirect nor DNS rebinding gets around
it. Refusals are kept in ``blocked`` for the error message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import struct
from collections.abc import Sequence
from types import TracebackType

from showkeeper.net.errors import BlockedAddressError
from showkeeper.net.guard import IPNetwork, resolve_and_check

_VERSION = 5
_CONNECT = 1
_REFUSED_BY_RULE = 2
_HOST_UNREACHABLE = 4
_COMMAND_UNSUPPORTED = 7
_HANDSHAKE_TIMEOUT_S = 30.0
_CONNECT_TIMEOUT_S = 30.0


class GuardedSocksProxy:
    """``async with GuardedSocksProxy(allowed) as proxy: ... proxy.url ...``"""

    def __init__(self, allowed_networks: Sequence[IPNetwork]) -> None:
        self.allowed_networks = tuple(allowed_networks)
        self.blocked: list[str] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    @property
    def url(self) -> str:
        """For yt-dlp: the proxy resolves host names itself (socks5h)."""
        return f"socks5h://127.0.0.1:{self.port}"

    async def __aenter__(self) -> GuardedSocksProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            target = await asyncio.wait_for(self._handshake(reader, writer), _HANDSHAKE_TIMEOUT_S)
            if target is not None:
                await _relay(reader, writer, *target)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
            pass
        finally:
            writer.close()
            if task is not None:
                self._tasks.discard(task)

    async def _handshake(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        version, count = await reader.readexactly(2)
        if version != _VERSION:
            return None
        methods = await reader.readexactly(count)
        if 0 not in methods:  # only "no authentication": the proxy listens on loopback only
            writer.write(bytes([_VERSION, 0xFF]))
            return None
        writer.write(bytes([_VERSION, 0]))
        version, command, _reserved, kind = await reader.readexactly(4)
        if kind == 1:
            host = str(ipaddress.IPv4Address(await reader.readexactly(4)))
        elif kind == 4:
            host = str(ipaddress.IPv6Address(await reader.readexactly(16)))
        elif kind == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode("idna")
        else:
            return None
        (port,) = struct.unpack("!H", await reader.readexactly(2))
        if command != _CONNECT:
            await _reply(writer, _COMMAND_UNSUPPORTED)
            return None
        try:
            addresses = await resolve_and_check(host, port, self.allowed_networks)
        except BlockedAddressError as exc:
            self.blocked.append(str(exc))
            await _reply(writer, _REFUSED_BY_RULE)
            return None
        except OSError:
            await _reply(writer, _HOST_UNREACHABLE)
            return None
        for address in addresses:
            try:
                upstream = await asyncio.wait_for(
                    asyncio.open_connection(str(address), port), _CONNECT_TIMEOUT_S
                )
            except (OSError, TimeoutError):
                continue
            await _reply(writer, 0)
            return upstream
        await _reply(writer, _HOST_UNREACHABLE)
        return None


async def _reply(writer: asyncio.StreamWriter, code: int) -> None:
    writer.write(bytes([_VERSION, code, 0, 1]) + bytes(4) + b"\x00\x00")
    await writer.drain()


async def _relay(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
) -> None:
    async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while chunk := await src.read(256 * 1024):
                dst.write(chunk)
                await dst.drain()
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                dst.write_eof()

    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    finally:
        up_writer.close()
