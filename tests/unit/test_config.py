import json
from pathlib import Path

import pytest

from showkeeper.config import Settings, SettingsError, load_settings


def write_config(data_dir: Path, values: dict) -> None:
    (data_dir / "config.json").write_text(json.dumps(values))


def test_defaults(data_dir: Path) -> None:
    s = load_settings(env_file=None, data_dir=data_dir)
    assert s.host == "127.0.0.1"
    assert s.port == 8000
    assert s.database_url == f"sqlite+aiosqlite:///{data_dir / 'showkeeper.db'}"
    assert s.scheduler_weekdays == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert s.library_dir is None


def test_default_data_dir_is_under_working_directory() -> None:
    s = load_settings(env_file=None)
    assert s.data_dir == Path("data")
    assert Path.cwd().joinpath(s.data_dir).parent == Path.cwd()


def test_precedence_env_over_dotenv_over_config_over_default(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    write_config(data_dir, {"port": 8001, "log_level": "DEBUG", "download_concurrency": 7})
    dotenv = Path(".env")
    dotenv.write_text(
        f"SHOWKEEPER_DATA_DIR={data_dir}\nSHOWKEEPER_PORT=8002\nSHOWKEEPER_LOG_LEVEL=ERROR\n"
    )
    monkeypatch.setenv("SHOWKEEPER_PORT", "8003")
    s = load_settings()
    assert s.port == 8003  # environment wins
    assert s.log_level == "ERROR"  # .env beats config.json
    assert s.download_concurrency == 7  # config.json beats the default
    assert s.host == "127.0.0.1"  # default
    assert s.data_dir == data_dir  # data_dir itself comes from .env


def test_lists_from_env_as_commas_or_json(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("SHOWKEEPER_ALLOWED_PRIVATE_NETWORKS", "10.0.0.0/8, 192.168.1.5")
    monkeypatch.setenv("SHOWKEEPER_SCHEDULER_WEEKDAYS", '["Monday", "fri"]')
    s = load_settings(env_file=None, data_dir=data_dir)
    assert [str(n) for n in s.allowed_private_networks] == ["10.0.0.0/8", "192.168.1.5/32"]
    assert s.scheduler_weekdays == ["mon", "fri"]


def test_postgres_url_normalised(data_dir: Path) -> None:
    s = load_settings(env_file=None, data_dir=data_dir, database_url="postgresql://u@h/db")
    assert s.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("SHOWKEEPER_PORT", "abc", "invalid setting port (SHOWKEEPER_PORT) = 'abc'"),
        ("SHOWKEEPER_PORT", "70000", "accepted: an integer from 1 to 65535"),
        ("SHOWKEEPER_LOG_LEVEL", "LOUD", "accepted: DEBUG, INFO, WARNING or ERROR"),
        ("SHOWKEEPER_SCHEDULER_TIME", "25:00", "invalid setting scheduler_time"),
        ("SHOWKEEPER_SCHEDULER_WEEKDAYS", "mon,funday", "unknown weekday 'fun'"),
        ("SHOWKEEPER_SCHEDULER_TIMEZONE", "Mars/Olympus", "unknown time zone"),
        ("SHOWKEEPER_DATABASE_URL", "mysql://x", "unsupported database"),
        ("SHOWKEEPER_TRUSTED_PROXIES", "not-an-ip", "invalid setting trusted_proxies"),
        ("SHOWKEEPER_HOST", "bad host!", "not an IP address or host name"),
    ],
)
def test_invalid_values_give_one_line_naming_key_value_and_accepted(
    monkeypatch: pytest.MonkeyPatch, data_dir: Path, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as info:
        load_settings(env_file=None, data_dir=data_dir)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert "accepted:" in message


def test_bad_value_in_config_json_names_the_file(data_dir: Path) -> None:
    write_config(data_dir, {"port": "eighty"})
    with pytest.raises(SettingsError, match=r"port.*from .*config\.json"):
        load_settings(env_file=None, data_dir=data_dir)


def test_unknown_key_in_config_json(data_dir: Path) -> None:
    write_config(data_dir, {"prot": 1})
    with pytest.raises(SettingsError, match="unknown setting 'prot'"):
        load_settings(env_file=None, data_dir=data_dir)


def test_secret_is_not_shown_in_errors(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    from showkeeper.config import public_view

    monkeypatch.setenv("SHOWKEEPER_TMDB_API_KEY", "supersecret")
    s = load_settings(env_file=None, data_dir=data_dir)
    assert s.tmdb_api_key is not None
    assert s.tmdb_api_key.get_secret_value() == "supersecret"
    assert "supersecret" not in json.dumps(public_view(s))


def test_every_setting_documents_what_it_accepts() -> None:
    for name, field in Settings.model_fields.items():
        assert field.description, name
        assert isinstance(field.json_schema_extra, dict), name
        assert field.json_schema_extra.get("accepted"), name
