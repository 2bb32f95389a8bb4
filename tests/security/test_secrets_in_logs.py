"""No secret ever reaches a log: `formabot run --verbose` (debug level, the most it says) with
both channels configured against the fakes and every secret set to a value of its own, through
a conversation and a broadcast on both channels, refusals included — a wrong and a missing
webhook secret, a forged Twilio signature, 401s from the Bot API and from Twilio — and then
its whole standard output and error are searched for each secret."""

from __future__ import annotations

import base64
import os
import subprocess
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlite_utils import Database

from bot.channels.telegram.routes import TELEGRAM_SECRET_HEADER
from bot.cli.main import cli
from storage import open_database
from tests.fakes.bot_api import TOKEN, FakeBotAPI, User
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.outbox.outbox_fakes import add_contact
from tests.running import FORMABOT, RunningBot, environment, wait_for, write_both_channels_config
from tests.telegram.support import free_port
from tests.whatsapp.phone import PUBLIC_URL, inbound_form, sign

WEBHOOK_SECRET = "Wh-secret_4c1f9e7b2a-for-the-log-test"
SECRETS = {
    "FORMABOT_TELEGRAM_TOKEN": TOKEN,
    "FORMABOT_TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
}
FORBIDDEN = {
    "telegram token": TOKEN,
    "telegram token's secret part": TOKEN.split(":", 1)[1],
    "webhook secret": WEBHOOK_SECRET,
    "twilio auth token": AUTH_TOKEN,
    "twilio basic auth": base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode(),
}
TALKER, RECIPIENT = User(7501, "Amina"), User(7502, "Rita")
TALKER_NUMBER, RECIPIENT_NUMBER = "+212612345601", "+212612345602"
HOOK = "/telegram/hook"


def test_no_secret_in_the_output_of_a_run_with_errors(
    tmp_path: Path, bot_api: FakeBotAPI, twilio: FakeTwilio
) -> None:
    port = free_port()
    config = write_both_channels_config(
        tmp_path,
        bot_api,
        twilio,
        port,
        telegram=f'mode = "webhook"\nwebhook_url = "{PUBLIC_URL}{HOOK}"',
        more="[dispatcher]\nbackoff_seconds = 0.05",
    )
    db = open_database(tmp_path / "formabot.db")
    add_contact(db, "Rita", telegram=str(RECIPIENT.id), company=None, topics=())
    add_contact(db, "Nadia", whatsapp=RECIPIENT_NUMBER, company=None, topics=())
    bot_api.meet(RECIPIENT)
    bot = RunningBot(config, SECRETS, port, "--verbose")
    try:
        wait_for(lambda: bot_api.webhook is not None)

        def telegram(user: User, text: str, secret: str | None = WEBHOOK_SECRET) -> int:
            update = bot_api.update(user, bot_api.message(user, text=text))
            headers = {TELEGRAM_SECRET_HEADER: secret} if secret is not None else {}
            return httpx.post(bot.url + HOOK, json=update, headers=headers, timeout=5).status_code

        def whatsapp(number: str, text: str, signature: str = "valid") -> int:
            form = inbound_form(number, text)
            signed = sign("/whatsapp/inbound", form) if signature == "valid" else signature
            return bot.post("/whatsapp/inbound", form, signed).status_code

        # a conversation on both channels, refusals and 401s included
        assert telegram(TALKER, "/start", secret="not-the-secret") == 403
        assert telegram(TALKER, "/start", secret=None) == 403
        assert whatsapp(TALKER_NUMBER, "bonjour", signature="forged=") == 403
        assert telegram(TALKER, "/start") == 200
        wait_for(lambda: bot_api.messages(TALKER))
        bot_api.refuse_next(TALKER, 401, "Unauthorized")
        assert telegram(TALKER, "Français") == 200
        wait_for(lambda: len(bot_api.calls_to("sendMessage")) >= 2)
        assert whatsapp(TALKER_NUMBER, "bonjour") == 200
        wait_for(lambda: twilio.bodies(TALKER_NUMBER))
        twilio.refuse_next(401, 20003, "Authenticate")
        assert whatsapp(TALKER_NUMBER, "1") == 200
        assert whatsapp(RECIPIENT_NUMBER, "menu") == 200  # opens WhatsApp's 24-hour window
        wait_for(lambda: twilio.bodies(RECIPIENT_NUMBER))

        # a broadcast, whose first attempts meet a 401 on each channel
        bot_api.refuse_next(RECIPIENT, 401, "Unauthorized")
        twilio.refuse_next(401, 20003, "Authenticate")
        announced = subprocess.run(
            [
                str(FORMABOT),
                "--config",
                str(config),
                "announce",
                "--everyone",
                "--text",
                "Nouvelle session de soudage",
                "--yes",
            ],
            env=environment(**SECRETS),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert announced.returncode == 0, announced.stderr
        wait_for(lambda: _all_sent(db))
        err = bot.stop()
    finally:
        bot.kill()
        db.close()
    logged = "\n".join([bot.output, err, announced.stdout, announced.stderr])
    # the errors were there to be logged …
    assert "wrong secret token" in logged and "without secret token" in logged
    assert "wrong signature" in logged
    assert "telegram refused the bot's credentials" in logged
    assert "twilio refused the account's credentials" in logged
    # … and no secret with them
    assert {name for name, secret in FORBIDDEN.items() if secret in logged} == set()


def test_a_malformed_secret_is_named_not_shown(tmp_path: Path, bot_api: FakeBotAPI) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[telegram]\nbase_url = "{bot_api.base_url}"\n', encoding="utf-8")
    malformed = "has spaces and $ymbols " + WEBHOOK_SECRET
    result = CliRunner().invoke(
        cli,
        ["--config", str(config), "run"],
        catch_exceptions=False,
        env={
            **{key: "" for key in os.environ if key.startswith("FORMABOT_")},
            "FORMABOT_TELEGRAM_TOKEN": TOKEN,
            "FORMABOT_TELEGRAM_WEBHOOK_SECRET": malformed,
        },
    )
    assert result.exit_code == 1
    assert "FORMABOT_TELEGRAM_WEBHOOK_SECRET" in result.output
    assert WEBHOOK_SECRET not in result.output and TOKEN not in result.output


def _all_sent(db: Database) -> bool:
    rows = db.execute("SELECT status FROM deliveries").fetchall()
    return len(rows) == 2 and {status for (status,) in rows} == {"sent"}
