"""The [telegram] section: one-line errors naming the key, secrets only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, TelegramSettings, load


def load_telegram(tmp_path: Path, text: str, **environ: str) -> TelegramSettings:
    path = tmp_path / "config.toml"
    path.write_text(f"[telegram]\n{text}\n", encoding="utf-8")
    return load(path, environ=environ).telegram


def test_defaults_are_telegram_itself_by_polling(tmp_path: Path) -> None:
    settings = load_telegram(tmp_path, "", FORMABOT_TELEGRAM_TOKEN=" 1:abc ")
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.mode == "polling"
    assert settings.token == "1:abc"
    assert "1:abc" not in repr(settings)


def test_webhook_mode_needs_a_url(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"\[telegram\] mode = 'webhook': set \[telegram\]"
        r" webhook_url",
    ):
        load_telegram(tmp_path, 'mode = "webhook"')


@pytest.mark.parametrize(
    ("text", "route"),
    [
        ('webhook_url = "https://bot.example.org/tg/hook"', "/tg/hook"),
        ('webhook_url = "https://bot.example.org"', "/"),
        ('webhook_url = "https://bot.example.org/a"\nwebhook_path = "/b"', "/b"),
    ],
)
def test_webhook_route_is_the_urls_path_unless_given(tmp_path: Path, text: str, route: str) -> None:
    assert load_telegram(tmp_path, f'mode = "webhook"\n{text}').webhook_route == route


def test_webhook_secret_comes_from_the_environment(tmp_path: Path) -> None:
    settings = load_telegram(tmp_path, "", FORMABOT_TELEGRAM_WEBHOOK_SECRET="abc-DEF_123")
    assert settings.webhook_secret == "abc-DEF_123"
    assert "abc-DEF_123" not in repr(settings)


def test_a_webhook_secret_telegram_would_refuse_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FORMABOT_TELEGRAM_WEBHOOK_SECRET: expected 1 to 256"):
        load_telegram(tmp_path, "", FORMABOT_TELEGRAM_WEBHOOK_SECRET="no spaces!")


@pytest.mark.parametrize("key", ["token", "webhook_secret", "secret_token"])
def test_secrets_in_the_file_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match="secrets are not read from the file"):
        load_telegram(tmp_path, f'{key} = "x"')


def test_webhook_path_must_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[telegram\] webhook_path = 'hook': expected a URL"):
        load_telegram(tmp_path, 'webhook_path = "hook"')


@pytest.mark.parametrize(
    "text",
    [
        'webhook_url = "https://bot.example.org/healthz"',
        'webhook_url = "https://bot.example.org/hook"\nwebhook_path = "/metrics/"',
        'webhook_url = "https://bot.example.org/whatsapp/inbound"',
    ],
)
def test_the_webhook_may_not_take_formabots_own_paths(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match="one of formabot's own endpoints"):
        load_telegram(tmp_path, f'mode = "webhook"\n{text}')
