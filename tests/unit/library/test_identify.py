from pathlib import Path

from showkeeper.library.identify import (
    FolderIdentity,
    IdentityProblem,
    identify_folder,
    is_valid_key,
    split_folder_name,
)


def identify(folder: Path) -> FolderIdentity | IdentityProblem | None:
    return identify_folder(str(folder), [p.name for p in folder.iterdir()])


def test_split_folder_name() -> None:
    assert split_folder_name("Dark (2017)") == ("Dark", 2017)
    assert split_folder_name("Dark") == ("Dark", None)
    assert split_folder_name("Show (US) (2005)") == ("Show (US)", 2005)
    assert split_folder_name("(2017)") == ("(2017)", None)


def test_keys() -> None:
    assert is_valid_key("attack-on-titan")
    assert is_valid_key("tvdb-81189")
    assert not is_valid_key("has space")
    assert not is_valid_key("-leading")
    assert not is_valid_key("x" * 201)
    assert not is_valid_key("")


def test_tvshow_nfo_prefers_showkeeper_then_default_uniqueid(tmp_path: Path) -> None:
    folder = tmp_path / "Dark (2017)"
    folder.mkdir()
    (folder / "tvshow.nfo").write_text(
        "<?xml version='1.0' encoding='UTF-8'?>\n<tvshow><title>Dark</title>"
        '<uniqueid type="imdb">tt5753856</uniqueid>'
        '<uniqueid type="tvdb" default="true">334824</uniqueid>'
        "<premiered>2017-12-01</premiered></tvshow>\n"
        "https://thetvdb.com/?tab=series&id=334824\n"  # Kodi allows a URL after the XML
    )
    found = identify(folder)
    assert found == FolderIdentity(key="tvdb-334824", name="Dark", year=2017, origin="tvshow.nfo")
    (folder / "tvshow.nfo").write_text(
        '<tvshow><uniqueid type="tvdb" default="true">1</uniqueid>'
        '<uniqueid type="showkeeper">dark-2017</uniqueid></tvshow>'
    )
    found = identify(folder)
    assert isinstance(found, FolderIdentity)
    assert (found.key, found.name, found.year) == ("dark-2017", "Dark", 2017)


def test_tvshow_nfo_without_uniqueid_falls_back_to_key_file(tmp_path: Path) -> None:
    folder = tmp_path / "Show"
    folder.mkdir()
    (folder / "tvshow.nfo").write_text("<tvshow><title>Show</title><id>12</id></tvshow>")
    problem = identify(folder)
    assert isinstance(problem, IdentityProblem) and "no <uniqueid>" in problem.reason
    (folder / "key").write_text("the-show\n")
    found = identify(folder)
    assert isinstance(found, FolderIdentity)
    assert (found.key, found.origin, found.name) == ("the-show", "key", "Show")


def test_broken_nfo_and_bad_key_are_problems_not_errors(tmp_path: Path) -> None:
    folder = tmp_path / "Show"
    folder.mkdir()
    (folder / "tvshow.nfo").write_text("<tvshow><uniqueid type='tvdb'>1</uniq")
    (folder / "key").write_text("not a key\n")
    problem = identify(folder)
    assert isinstance(problem, IdentityProblem)
    assert "tvshow.nfo cannot be read" in problem.reason
    assert "not a usable key" in problem.reason
    (folder / "tvshow.nfo").write_text('<tvshow><uniqueid type="tv db">1</uniqueid></tvshow>')
    (folder / "key").write_bytes(b"\xff\xfe")
    problem = identify(folder)
    assert isinstance(problem, IdentityProblem)
    assert "not a usable key" in problem.reason and "key file cannot be read" in problem.reason


def test_no_identity_files(tmp_path: Path) -> None:
    folder = tmp_path / "Show"
    folder.mkdir()
    (folder / "notes.txt").write_text("key")
    assert identify(folder) is None


def test_legacy_key_and_data_file(tmp_path: Path) -> None:
    folder = tmp_path / "Frieren (2023)"
    folder.mkdir()
    (folder / "key").write_text("frieren\n")
    (folder / "data").write_text(
        '{"key": "frieren", "name": "Frieren: Beyond Journey\'s End", '
        '"site": "https://legacy.example", "folder": "Frieren (2023)", '
        '"episodeDict": {"1": [1, 2, 3], "2": [1], "x": [4], "3": "nope", "0": [true, 1]}}'
    )
    found = identify(folder)
    assert found == FolderIdentity(
        key="frieren",
        name="Frieren: Beyond Journey's End",
        year=2023,
        origin="key",
        site="https://legacy.example",
        episodes=((0, 1), (1, 1), (1, 2), (1, 3), (2, 1)),
    )
    # a data file that is not JSON is ignored: the key alone identifies the folder
    (folder / "data").write_text("{broken")
    found = identify(folder)
    assert isinstance(found, FolderIdentity)
    assert (found.key, found.name, found.episodes) == ("frieren", "Frieren", ())
    assert (folder / "key").exists() and (folder / "data").exists()  # left in place
