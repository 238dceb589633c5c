"""Outbound HTTP for showkeeper: one guarded client stack for feeds, listings, downloads, TMDB."""

from showkeeper.net.client import DEFAULT_USER_AGENT, FetchResult, HttpClient, parse_retry_after
from showkeeper.net.errors import (
    BlockedAddressError,
    HttpStatusError,
    OutboundConnectionError,
    OutboundError,
    OutboundTimeoutError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeURLError,
)
from showkeeper.net.guard import check_address, check_url, classify_address, resolve_and_check

__all__ = [
    "DEFAULT_USER_AGENT",
    "BlockedAddressError",
    "FetchResult",
    "HttpClient",
    "HttpStatusError",
    "OutboundConnectionError",
    "OutboundError",
    "OutboundTimeoutError",
    "ResponseTooLargeError",
    "TooManyRedirectsError",
    "UnsafeURLError",
    "check_address",
    "check_url",
    "classify_address",
    "parse_retry_after",
    "resolve_and_check",
]
