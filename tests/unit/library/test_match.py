from datetime import date

from showkeeper.domain.filenames import ParsedEpisode
from showkeeper.library.match import EpisodeIndex, KnownEpisode, resolve


def known(
    season: int, episode: int, *, absolute: int | None = None, aired: date | None = None
) -> KnownEpisode:
    return KnownEpisode(
        id=season * 100 + episode,
        season=season,
        episode=episode,
        absolute=absolute,
        air_date=aired,
        file_path=None,
        is_downloaded=False,
        size=None,
        removable=False,
    )


def parsed(
    season: int | None, *episodes: int, aired: date | None = None, absolute: int | None = None
) -> ParsedEpisode:
    return ParsedEpisode(season, tuple(episodes), absolute, aired, None, "fast")


def test_season_and_episode_are_taken_at_their_word() -> None:
    index = EpisodeIndex([known(1, 1)])
    assert resolve(parsed(2, 5), index) == ((2, 5),)
    assert resolve(parsed(1, 1, 2), index) == ((1, 1), (1, 2))
    assert resolve(parsed(0, 3), index) == ((0, 3),)


def test_air_date_matches_only_a_single_episode() -> None:
    index = EpisodeIndex(
        [
            known(2024, 1, aired=date(2024, 5, 1)),
            known(2024, 2, aired=date(2024, 5, 2)),
            known(2024, 3, aired=date(2024, 5, 2)),
        ]
    )
    assert resolve(parsed(None, aired=date(2024, 5, 1)), index) == ((2024, 1),)
    reason = resolve(parsed(None, aired=date(2024, 5, 2)), index)
    assert isinstance(reason, str) and "2 episodes aired on 2024-05-02" in reason
    reason = resolve(parsed(None, aired=date(2024, 6, 1)), index)
    assert isinstance(reason, str) and "no episode" in reason


def test_bare_number_uses_absolute_numbers_then_the_only_season() -> None:
    anime = EpisodeIndex([known(1, 12, absolute=12), known(2, 1, absolute=13)])
    assert resolve(parsed(None, 13, absolute=13), anime) == ((2, 1),)
    reason = resolve(parsed(None, 30, absolute=30), anime)
    assert isinstance(reason, str) and "no season" in reason  # two seasons: never guessed
    single = EpisodeIndex([known(3, 1), known(0, 1)])  # specials don't count as a season
    assert resolve(parsed(None, 4, absolute=4), single) == ((3, 4),)
    assert resolve(parsed(None, 4, 5), EpisodeIndex([])) == ((1, 4), (1, 5))
