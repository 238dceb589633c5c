"""A candidate stream of an episode: what a source offers and the download engine tries.

Sources produce them (ordered best first); they are stored as JSON on the episode row
(`Episode.candidates`) and the download engine rotates over them in order.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

CandidateKind = Literal["direct", "hls", "page"]
KINDS: frozenset[str] = frozenset({"direct", "hls", "page"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """One way to get an episode.

    kind: "direct" (a media file over HTTP), "hls" (an m3u8 playlist) or "page" (a web page
    that yt-dlp resolves at download time). quality is the video height when known.
    """

    url: str
    kind: CandidateKind = "direct"
    quality: int | None = None
    mime: str | None = None
    size: int | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Candidate:
        kind = data.get("kind", "direct")
        if kind not in KINDS:
            raise ValueError(f"unknown candidate kind {kind!r}")
        headers = data.get("headers") or {}
        return cls(
            url=str(data["url"]),
            kind=kind,
            quality=int(data["quality"]) if data.get("quality") is not None else None,
            mime=data.get("mime"),
            size=int(data["size"]) if data.get("size") is not None else None,
            headers={str(k): str(v) for k, v in headers.items()},
        )
