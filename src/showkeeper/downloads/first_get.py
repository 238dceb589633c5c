"""The GET that stands in for a probe: a candidate whose type and size came from its source
(a feed's enclosure, a directory listing) is fetched at once, and that response's headers and
first bytes decide what it is. Its body is the resource from byte 0, so the first stream
that starts at byte 0 (the single stream, or the first ranged connection) takes it instead
of sending a request of its own.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp

from showkeeper.net import HttpClient

__all__ = ["FirstGet", "stream_or_take"]


class FirstGet:
    """An open response to a plain GET, handed to the first reader of byte 0 (once).

    Whoever :meth:`take` s it reads it inside ``client.reading(resp)`` and releases it;
    :meth:`release` drops it unread when nobody took it (that closes its connection).
    """

    def __init__(self, client: HttpClient, resp: aiohttp.ClientResponse) -> None:
        self.client = client
        self._resp: aiohttp.ClientResponse | None = resp
        self.head = b""
        """Body bytes already read (by :meth:`read_head`); they come first."""

    @property
    def response(self) -> aiohttp.ClientResponse | None:
        return self._resp

    async def read_head(self, size: int) -> bytes:
        """Read the first ``size`` body bytes (fewer at the end of the body) and keep them.

        Raises:
            OutboundError: When the connection fails while reading.
        """
        resp = self._resp
        if resp is None:
            return self.head
        chunks = [self.head]
        got = len(self.head)
        with self.client.reading(resp):
            while got < size:
                chunk = await resp.content.read(size - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        self.head = b"".join(chunks)
        return self.head

    def take(self) -> tuple[aiohttp.ClientResponse, bytes] | None:
        """The response and the bytes already read from it; None once taken or released."""
        resp, self._resp = self._resp, None
        if resp is None:
            return None
        head, self.head = self.head, b""
        return resp, head

    async def drain(self) -> None:
        """Read a small untaken body (an error or a page) so the connection stays open."""
        if self._resp is not None:
            await self.client.drain(self._resp)

    def release(self) -> None:
        """Give up the response if nobody took it."""
        resp, self._resp = self._resp, None
        if resp is not None:
            resp.release()


@asynccontextmanager
async def stream_or_take(
    first: FirstGet | None, client: HttpClient, url: str, headers: Mapping[str, str]
) -> AsyncIterator[tuple[aiohttp.ClientResponse, bytes]]:
    """``first``'s response and its bytes already read when there is one to take, else a
    new request (``client.stream``) and no bytes. Either way it is released at the end."""
    taken = first.take() if first is not None else None
    if taken is None:
        async with client.stream(url, headers=headers) as resp:
            yield resp, b""
        return
    resp, head = taken
    try:
        with client.reading(resp):
            yield resp, head
    finally:
        resp.release()
