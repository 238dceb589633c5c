"""A server that calls a launcher or an error page video/mp4 gets nothing into the library."""

from __future__ import annotations

import pytest

from showkeeper.domain.candidates import Candidate
from showkeeper.downloads.engine import download
from showkeeper.downloads.transfer import AllCandidatesFailed
from tests.integration.downloads.servers import Resource, media_bytes

DESKTOP = b"[Desktop Entry]\nType=Application\nName=Episode 1\nExec=sh -c 'id'\n"


@pytest.mark.parametrize("content_type", ["application/octet-stream", "video/mp4"])
async def test_text_served_as_media_is_refused_and_the_next_candidate_wins(
    server, client, settings, library_dir, content_type
):
    data = media_bytes(100_000)
    bad = Candidate(server.add("/launcher.mp4", Resource(DESKTOP, content_type=content_type)))
    good = Candidate(server.add("/real.mp4", Resource(data, content_type="video/mp4")))
    dest = library_dir / "Show" / "Season 01" / "Show - S01E01.mp4"
    result = await download([bad, good], dest, client=client, settings=settings, label="s S01E01")
    assert result.candidate == good
    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == [dest.name]


async def test_only_text_candidates_fail_with_the_reason(server, client, settings, library_dir):
    bad = Candidate(server.add("/e.mp4", Resource(b"<html>quota</html>", content_type="video/mp4")))
    dest = library_dir / "Show - S01E01.mp4"
    with pytest.raises(AllCandidatesFailed) as caught:
        await download([bad], dest, client=client, settings=settings, label="s S01E01")
    assert "is not media: it is text" in str(caught.value)
    assert list(library_dir.iterdir()) == []
