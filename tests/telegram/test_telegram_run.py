"""`formabot run` as an operator starts it: a subprocess, a config file, the token in the
environment, against the fake Bot API; stopped by SIGTERM or SIGINT."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli.main import cli
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.running import FORMABOT, environment, wait_for
from tests.telegram.chat import AMINA
from tests.telegram.support import free_port, write_config


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_run_answers_start_and_stops_cleanly(
    tmp_path: Path, bot_api: FakeBotAPI, stop_signal: signal.Signals
) -> None:
    config = write_config(tmp_path, bot_api)
    process = subprocess.Popen(
        [str(FORMABOT), "--config", str(config), "run"],
        env=environment(FORMABOT_TELEGRAM_TOKEN=TOKEN),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        bot_api.text(AMINA, "/start")
        wait_for(lambda: bot_api.messages(AMINA))
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert "Choisissez votre langue" in bot_api.transcript(AMINA)
    assert process.returncode == 0, err
    assert "telegram bot @formabot_test_bot: long polling" in err
    assert str((tmp_path / "formabot.db").resolve()) in err
    assert "channels: telegram" in err
    assert "formabot stopped" in err
    assert TOKEN not in err + out
    assert "Traceback" not in err


def run(tmp_path: Path, bot_api: FakeBotAPI, env: dict[str, str], telegram: str = ""):
    config = write_config(tmp_path, bot_api, telegram)
    return CliRunner().invoke(
        cli, ["--config", str(config), "run"], env=env, catch_exceptions=False
    )


def test_run_with_a_token_telegram_refuses(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    result = run(tmp_path, bot_api, {"FORMABOT_TELEGRAM_TOKEN": "123:wrong"})
    assert result.exit_code == 1
    assert "Telegram refused the token in FORMABOT_TELEGRAM_TOKEN" in result.output
    assert "123:wrong" not in result.output


def test_webhook_mode_needs_its_secret(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    result = run(
        tmp_path,
        bot_api,
        {"FORMABOT_TELEGRAM_TOKEN": TOKEN},
        'mode = "webhook"\nwebhook_url = "https://bot.example.org/telegram"',
    )
    assert result.exit_code == 1
    assert "FORMABOT_TELEGRAM_WEBHOOK_SECRET" in result.output


def test_run_when_telegram_cannot_be_reached(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    closed = FakeBotAPI()  # never started: nothing listens on its URL
    closed.port = free_port()
    result = run(tmp_path, closed, {"FORMABOT_TELEGRAM_TOKEN": TOKEN})
    assert result.exit_code == 1
    assert f"cannot reach Telegram at {closed.base_url}" in result.output
