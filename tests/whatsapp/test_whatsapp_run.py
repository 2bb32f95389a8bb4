"""`formabot run` serving WhatsApp as an operator starts it: a subprocess, a config file, the
Twilio credentials in the environment; alone, or beside Telegram. A person writes through a
signed webhook on the bot's web port, and the answer comes back through the fake Twilio."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from bot.cli.main import cli
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.running import RunningBot, environment, wait_for
from tests.telegram.chat import AMINA
from tests.telegram.support import free_port
from tests.whatsapp.phone import PUBLIC_URL, inbound_form, sign

NUMBER = "+212612345678"
TWILIO_ENV = {"FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID, "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def write_config(
    directory: Path, twilio: FakeTwilio, port: int, *, telegram: str = "", whatsapp: str = ""
) -> Path:
    path = directory / "config.toml"
    path.write_text(
        f"""
[bot]
database = "formabot.db"

{telegram}

[whatsapp]
api_base_url = "{twilio.base_url}"
from = "{SENDER}"
public_url = "{PUBLIC_URL}"
{whatsapp}

[web]
host = "127.0.0.1"
port = {port}
""",
        encoding="utf-8",
    )
    return path


def test_run_serves_whatsapp_alone(tmp_path: Path, twilio: FakeTwilio) -> None:
    port = free_port()
    running = RunningBot(write_config(tmp_path, twilio, port), TWILIO_ENV, port)
    try:
        form = inbound_form(NUMBER, "salam")
        forged = running.post("/whatsapp/inbound", form, signature="forged")
        assert forged.status_code == 403
        answered = running.post("/whatsapp/inbound", form, sign("/whatsapp/inbound", form))
        assert answered.status_code == 200
        wait_for(lambda: twilio.bodies(NUMBER))
        err = running.stop()
    finally:
        running.kill()
    assert "Choisissez votre langue" in "\n".join(twilio.bodies(NUMBER))
    assert [request.field("StatusCallback") for request in twilio.messages] == [
        f"{PUBLIC_URL}/whatsapp/status"
    ]
    assert "channels: whatsapp" in err
    assert f"{PUBLIC_URL}/whatsapp/inbound" in err
    assert AUTH_TOKEN not in err
    assert "Traceback" not in err


def test_run_serves_telegram_and_whatsapp_together(
    tmp_path: Path, twilio: FakeTwilio, own_bot_api: FakeBotAPI
) -> None:
    port = free_port()
    telegram = (
        f'[telegram]\nbase_url = "{own_bot_api.base_url}"\n'
        f'base_file_url = "{own_bot_api.base_file_url}"'
    )
    config = write_config(tmp_path, twilio, port, telegram=telegram)
    running = RunningBot(config, {**TWILIO_ENV, "FORMABOT_TELEGRAM_TOKEN": TOKEN}, port)
    try:
        own_bot_api.text(AMINA, "/start")
        form = inbound_form(NUMBER, "bonjour")
        assert (
            running.post("/whatsapp/inbound", form, sign("/whatsapp/inbound", form)).status_code
            == 200
        )
        wait_for(lambda: own_bot_api.messages(AMINA) and twilio.bodies(NUMBER))
        err = running.stop()
    finally:
        running.kill()
    assert "Choisissez votre langue" in own_bot_api.transcript(AMINA)
    assert "Choisissez votre langue" in "\n".join(twilio.bodies(NUMBER))
    assert "channels: telegram, whatsapp" in err
    assert TOKEN not in err and AUTH_TOKEN not in err


def test_run_with_whatsapp_but_no_sender_says_what_to_set(
    tmp_path: Path, twilio: FakeTwilio
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[whatsapp]\napi_base_url = "{twilio.base_url}"\npublic_url = "{PUBLIC_URL}"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        cli, ["--config", str(config), "run"], env=environment(**TWILIO_ENV), catch_exceptions=False
    )
    assert result.exit_code == 1
    assert "[whatsapp]" in result.output and "from" in result.output
    assert "Traceback" not in result.output
