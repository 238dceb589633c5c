from showkeeper.sources.base import RemoteEpisode
from showkeeper.sources.numbering import assign_numbers


def ep(rid: str, season: int = 1, number: int | None = None) -> RemoteEpisode:
    return RemoteEpisode(remote_id=rid, season=season, episode=number)


def keys(episodes: list[RemoteEpisode]) -> list[tuple[str, int, int | None]]:
    return [(e.remote_id, e.season, e.episode) for e in episodes]


def test_unnumbered_are_numbered_in_listing_order() -> None:
    assert keys(assign_numbers([ep("a"), ep("b"), ep("c")], {})) == [
        ("a", 1, 1),
        ("b", 1, 2),
        ("c", 1, 3),
    ]


def test_known_ids_keep_their_numbers_and_new_ones_follow() -> None:
    known = {"a": (1, 1), "b": (1, 2), "c": (1, 3)}
    # a and b dropped out of the feed; d and e are new
    result = assign_numbers([ep("c"), ep("d"), ep("e")], known, known.values())
    assert keys(result) == [("c", 1, 3), ("d", 1, 4), ("e", 1, 5)]


def test_explicit_numbers_win_and_duplicates_are_renumbered() -> None:
    result = assign_numbers([ep("a", number=1), ep("b", number=1), ep("c", number=5)], {})
    assert keys(result) == [("a", 1, 1), ("b", 1, 6), ("c", 1, 5)]


def test_explicit_number_takes_a_known_slot() -> None:
    known = {"old": (1, 1)}
    result = assign_numbers([ep("new", number=1), ep("old")], known, known.values())
    assert keys(result) == [("new", 1, 1), ("old", 1, 2)]


def test_seasons_are_numbered_separately() -> None:
    result = assign_numbers([ep("a", 0), ep("b", 2, 7), ep("c", 2), ep("d", 0)], {})
    assert keys(result) == [("a", 0, 1), ("b", 2, 7), ("c", 2, 8), ("d", 0, 2)]


def test_numbers_of_stored_episodes_are_never_reused() -> None:
    known = {"gone": (1, 9)}
    assert keys(assign_numbers([ep("x")], known)) == [("x", 1, 10)]
