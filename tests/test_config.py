"""A wrong configuration stops with one line naming the key, the value and what is expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_valid_and_documents_defaults(tmp_path: Path) -> None:
    config = load(ROOT / "config.example.toml", environ={})
    assert config.bot.timezone == "Africa/Casablanca"
    assert config.telegram.base_url == "https://api.telegram.org/bot"


def test_no_file_means_built_in_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load(environ={})
    assert config.path is None
    assert config.bot.database == Path("formabot.db")


def test_relative_database_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[bot]\ndatabase = "data/bot.db"\n'), environ={})
    assert config.bot.database == tmp_path / "data" / "bot.db"


def test_secrets_come_from_the_environment(tmp_path: Path) -> None:
    config = load(write(tmp_path, ""), environ={"FORMABOT_TELEGRAM_TOKEN": " 123:abc "})
    assert config.telegram.token == "123:abc"
    assert "123:abc" not in repr(config)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[bot]\ntimezone = "Mars/Olympus"\n',
            "[bot] timezone = 'Mars/Olympus': expected an IANA time zone",
        ),
        (
            '[bot]\ndefault_language = "de"\n',
            '[bot] default_language = \'de\': expected one of "fr", "ar", "en"',
        ),
        ("[bot]\npage_size = 0\n", "[bot] page_size = 0: expected a whole number from 1 to 10"),
        ('[bot]\npage_size = "5"\n', "[bot] page_size = '5': expected a whole number"),
        (
            '[telegram]\nbase_url = "api.telegram.org"\n',
            "[telegram] base_url = 'api.telegram.org': expected an http(s) URL",
        ),
        ('[telegram]\nmode = "push"\n', "[telegram] mode = 'push': expected \"polling\" or"),
        ("[web]\nport = 70000\n", "[web] port = 70000: expected a port number"),
        ('[bot]\ndatabse = "x.db"\n', "[bot] databse: unknown key; expected one of database"),
        ('[bots]\ndatabase = "x.db"\n', "[bots]: unknown section"),
        ('[telegram]\ntoken = "123:abc"\n', "[telegram] token: secrets are not read from the file"),
        ("[bot\n", "not valid TOML"),
        ('[brand]\nname = ""\n', "[brand] name = '': expected the sender people read"),
        ('[brand]\nname = "Formation\\nFIMME"\n', "[brand] name = 'Formation\\nFIMME': expected"),
        (f'[brand]\nfederation = "{"F" * 61}"\n', "[brand] federation = 'FFF"),
        ("[brand]\nschool = 3\n", "[brand] school = 3: expected the school's name"),
        ('[brand]\nslogan = "x"\n', "[brand] slogan: unknown key; expected one of name,"),
    ],
)
def test_wrong_values_are_named_precisely(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path, environ={})
    assert message in str(caught.value)
    assert str(path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_brand_names_the_sender_and_defaults_to_none(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            '[brand]\nname = "Formation FIMME"\nfederation = "FIMME"\nschool = "École FIMME"\n',
        ),
        environ={},
    )
    assert (config.brand.name, config.brand.federation, config.brand.school) == (
        "Formation FIMME",
        "FIMME",
        "École FIMME",
    )
    assert load(write(tmp_path, ""), environ={}).brand.name == ""


def test_a_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load(tmp_path / "nope.toml", environ={})
