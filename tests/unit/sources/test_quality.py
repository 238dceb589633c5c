from showkeeper.domain.candidates import Candidate
from showkeeper.sources.quality import height_from_name, order_candidates


def test_height_from_name() -> None:
    assert height_from_name("Show.S01E01.1080p.WEB.mkv") == 1080
    assert height_from_name("show 720i.ts") == 720
    assert height_from_name("Show [4K].mkv") == 2160
    assert height_from_name("Show S01E01.mkv") is None
    assert height_from_name("Show.10800p.mkv") is None


def test_order_best_first_within_the_limit() -> None:
    cands = [
        Candidate("http://h/a.mp3", size=10),
        Candidate("http://h/2160.mp4", quality=2160),
        Candidate("http://h/480.mp4", quality=480),
        Candidate("http://h/1080.mp4", quality=1080),
        Candidate("http://h/1440.mp4", quality=1440),
        Candidate("http://h/b.mp3", size=20),
        Candidate("http://h/480.mp4", quality=480),  # duplicate URL
    ]
    urls = [c.url.rsplit("/", 1)[1] for c in order_candidates(cands, max_height=1080)]
    assert urls == ["1080.mp4", "480.mp4", "b.mp3", "a.mp3", "1440.mp4", "2160.mp4"]
