"""`formabot sessions link ID`: the deep link for posters and emails, and its QR code."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlite_utils import Database

from bot.channels.telegram.deep_links import session_link, topic_link
from bot.cli.deep_links import link_command
from bot.cli.main import State
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.telegram.support import write_config

LINK = "https://t.me/formabot_test_bot?start=session_tig-2026-12"


def link(tmp_path: Path, bot_api: FakeBotAPI, *args: str, token: str = TOKEN) -> Result:
    config = write_config(tmp_path, bot_api)
    return CliRunner().invoke(
        link_command,
        list(args),
        obj=State(config),
        env={"FORMABOT_TELEGRAM_TOKEN": token},
        catch_exceptions=False,
    )


def test_link_asks_telegram_for_the_username_and_draws_the_qr_code(
    tmp_path: Path, bot_api: FakeBotAPI, programme: Database
) -> None:
    result = link(tmp_path, bot_api, "tig-2026-12")
    assert result.exit_code == 0, result.output
    first, *qr = result.output.splitlines()
    assert first == LINK
    assert len(qr) > 10 and any("█" in line or "▀" in line for line in qr)
    assert bot_api.calls_to("getMe")


def test_link_writes_a_png_for_posters(
    tmp_path: Path, bot_api: FakeBotAPI, programme: Database
) -> None:
    png = tmp_path / "poster.png"
    result = link(tmp_path, bot_api, "tig-2026-12", "--png", str(png), "--username", "@my_bot")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "https://t.me/my_bot?start=session_tig-2026-12",
        f"QR code written to {png}",
    ]
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert not bot_api.calls_to("getMe")


def test_link_to_an_unknown_session_is_refused(
    tmp_path: Path, bot_api: FakeBotAPI, programme: Database
) -> None:
    result = link(tmp_path, bot_api, "nope", "--username", "my_bot")
    assert result.exit_code == 1
    assert "no session 'nope'" in result.output


def test_link_without_token_or_username_says_what_to_do(
    tmp_path: Path, bot_api: FakeBotAPI, programme: Database
) -> None:
    result = link(tmp_path, bot_api, "tig-2026-12", token="")
    assert result.exit_code == 1
    assert "FORMABOT_TELEGRAM_TOKEN" in result.output and "--username" in result.output


def test_topic_link() -> None:
    assert topic_link("formabot_bot", "soudage") == "https://t.me/formabot_bot?start=topic_soudage"


def test_a_session_id_telegram_cannot_carry_is_an_error() -> None:
    with pytest.raises(ValueError):
        session_link("formabot_bot", "x" * 60)
