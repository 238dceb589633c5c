"""Errors raised by showkeeper's outbound HTTP stack.

Every error carries a message meant for a user: what happened and what to do about it.
All of them derive from :class:`OutboundError`, so callers can catch one type.
"""

from __future__ import annotations

from http import HTTPStatus

__all__ = [
    "ALLOWED_NETWORKS_ENV",
    "ALLOWED_NETWORKS_SETTING",
    "BlockedAddressError",
    "HttpStatusError",
    "OutboundConnectionError",
    "OutboundError",
    "OutboundTimeoutError",
    "ResponseTooLargeError",
    "TooManyRedirectsError",
    "UnsafeURLError",
]

ALLOWED_NETWORKS_SETTING = "allowed_private_networks"
ALLOWED_NETWORKS_ENV = "SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS"


class OutboundError(Exception):
    """Base class: an outbound HTTP request could not be completed."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.url = url

    def __str__(self) -> str:
        return self.message


class UnsafeURLError(OutboundError):
    """The URL is not something showkeeper is willing to fetch (scheme, host, userinfo...)."""


class BlockedAddressError(UnsafeURLError):
    """The host resolved to (or is) an address the SSRF guard refuses."""

    def __init__(
        self,
        address: str,
        reason: str,
        *,
        url: str | None = None,
        host: str | None = None,
    ) -> None:
        self.address = address
        self.reason = reason
        self.host = host
        if url is not None:
            target = f" for {url}"
        elif host is not None and host != address:
            target = f" for host {host}"
        else:
            target = ""
        message = (
            f"refusing to connect to {address} ({reason}){target}; add a network containing it "
            f"to {ALLOWED_NETWORKS_SETTING} (env {ALLOWED_NETWORKS_ENV}) to allow it"
        )
        super().__init__(message, url=url)

    def for_url(self, url: str) -> BlockedAddressError:
        """A copy of this error that names the URL being fetched."""
        return BlockedAddressError(self.address, self.reason, url=url, host=self.host)


class TooManyRedirectsError(OutboundError):
    """The redirect chain looped or was longer than allowed."""

    def __init__(self, url: str, *, limit: int, history: list[str], loop: bool) -> None:
        self.limit = limit
        self.history = history
        self.loop = loop
        if loop:
            message = (
                f"redirect loop while fetching {url}: {history[-1]} was redirected to again "
                f"after {len(history) - 1} hops; the server is misconfigured, check the URL "
                "in a browser or use the final address directly"
            )
        else:
            message = (
                f"too many redirects while fetching {url} (more than {limit}; last was "
                f"{history[-1]}); check the URL or use the final address directly"
            )
        super().__init__(message, url=url)


def _status_hint(status: int) -> str:
    if status in (401, 403):
        return "check the credentials or API key configured for this source"
    if status in (404, 410):
        return "check that the URL is still correct"
    if status == 429:
        return "the server is rate limiting showkeeper; try again later or poll less often"
    if status >= 500:
        return "the server is having problems; try again later"
    return "check the URL and the source's settings"


class HttpStatusError(OutboundError):
    """The server answered with an error status (after retries, where applicable)."""

    def __init__(self, status: int, url: str, *, attempts: int = 1) -> None:
        self.status = status
        self.attempts = attempts
        try:
            phrase = f" {HTTPStatus(status).phrase}"
        except ValueError:
            phrase = ""
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        message = f"{url} answered HTTP {status}{phrase}{tries}; {_status_hint(status)}"
        super().__init__(message, url=url)


class ResponseTooLargeError(OutboundError):
    """The response body is larger than the caller's limit."""

    def __init__(self, url: str, *, limit: int, size: int | None = None) -> None:
        self.limit = limit
        self.size = size
        got = f"announced {size} bytes" if size is not None else "sent more than that"
        message = (
            f"response from {url} is larger than the {limit}-byte limit ({got}); "
            "check that the URL points at the right resource"
        )
        super().__init__(message, url=url)


class OutboundTimeoutError(OutboundError):
    """Connecting, resolving or reading timed out."""

    def __init__(self, url: str | None, *, phase: str, timeout: float | None) -> None:
        self.phase = phase
        self.timeout = timeout
        after = f" after {timeout:g}s" if timeout is not None else ""
        target = url if url is not None else "the server"
        message = (
            f"timed out{after} while {phase} ({target}); the server may be down or slow, "
            "try again later"
        )
        super().__init__(message, url=url)

    def for_url(self, url: str) -> OutboundTimeoutError:
        """A copy of this error that names the URL being fetched."""
        return OutboundTimeoutError(url, phase=self.phase, timeout=self.timeout)


class OutboundConnectionError(OutboundError):
    """DNS failure, refused connection, TLS failure, dropped connection..."""

    def __init__(self, url: str, detail: str) -> None:
        self.detail = detail
        message = (
            f"could not fetch {url}: {detail}; check the address and that the server is "
            "reachable from this machine"
        )
        super().__init__(message, url=url)
