"""Which hosts a failed transfer says to slow down for (politeness.troubles_of)."""

from __future__ import annotations

from showkeeper.downloads.politeness import HostTrouble, troubles_of
from showkeeper.downloads.transfer import AllCandidatesFailed, TransferError, http_status_error
from showkeeper.net.errors import HttpStatusError, OutboundTimeoutError


def wrapped(cause: BaseException, message: str = "failed") -> TransferError:
    """A TransferError raised ``from`` cause, as the transfer code raises them."""
    try:
        raise TransferError(message, transient=True) from cause
    except TransferError as exc:
        return exc


def failed(*pairs: tuple[str, BaseException]) -> AllCandidatesFailed:
    return AllCandidatesFailed(
        "All candidates failed", [(url, str(e)) for url, e in pairs], [e for _, e in pairs]
    )


def test_a_429_is_charged_to_the_candidates_host_with_its_retry_after() -> None:
    # the 429 came from the CDN the candidate redirected to; claims compare the candidate's host
    error = failed(
        ("http://feed.example/e1.mp4", http_status_error(429, "http://cdn.example/x", 2))
    )
    assert troubles_of(error) == [HostTrouble("feed.example", "throttled", 429, 2.0)]
    assert "Retry-After: 2 s" in str(error.causes[0])


def test_timeouts_and_client_side_status_errors_are_found_through_the_cause_chain() -> None:
    timeout = OutboundTimeoutError("http://slow.example/a", phase="reading", timeout=30)
    error = failed(
        ("http://slow.example/a", wrapped(timeout)),
        ("http://hls.example/p.m3u8", wrapped(HttpStatusError(503, "http://hls.example/s1.ts"))),
        ("http://gone.example/b", http_status_error(404, "http://gone.example/b")),
    )
    assert troubles_of(error) == [
        HostTrouble("slow.example", "timeout"),
        HostTrouble("hls.example", "throttled", 503, None),
    ]


def test_a_429_outweighs_a_timeout_on_the_same_host() -> None:
    timeout = wrapped(OutboundTimeoutError(None, phase="connecting", timeout=10))
    error = failed(
        ("http://one.example/a", timeout),
        ("http://one.example/b", http_status_error(503, "http://one.example/b", None)),
    )
    assert troubles_of(error) == [HostTrouble("one.example", "throttled", 503, None)]


def test_an_error_outside_the_rotation_uses_its_own_url() -> None:
    assert troubles_of(http_status_error(429, "http://x.example/v", 7)) == [
        HostTrouble("x.example", "throttled", 429, 7.0)
    ]
    assert troubles_of(TransferError("not media")) == []
    assert troubles_of(failed()) == []
