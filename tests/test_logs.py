"""The bot's log, as `formabot run` writes it: one line per event, text or JSON (`[log]
format`), and contacts by id only: a person's phone number, name and Telegram id never
appear, whatever they did (talked on both channels, shared their number, got a broadcast,
blocked the bot)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import httpx
import pytest

from bot.config import ConfigError, load
from bot.ops import logs
from storage import broadcasts, contacts, deliveries, open_database
from storage.audience import Audience
from storage.zones import now_utc, to_utc_text
from tests.fakes.bot_api import TOKEN, FakeBotAPI, User
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio
from tests.running import RunningBot, wait_for, write_both_channels_config
from tests.telegram.support import free_port
from tests.whatsapp.phone import inbound_form, sign

PHONE = "+212661234567"
NAME = "Zineb Tazi"
ZINEB = User(918273645, "Zineb")
SECRETS = (PHONE, PHONE.lstrip("+"), "661234567", NAME, "Tazi", str(ZINEB.id), TOKEN, AUTH_TOKEN)
ENV = {
    "FORMABOT_TELEGRAM_TOKEN": TOKEN,
    "FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
    "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN,
}


def enrol_zineb(database: Path) -> int:
    """Zineb, who consented, on Telegram and on WhatsApp."""
    db = open_database(database)
    try:
        contact_id = contacts.create(
            db,
            name=NAME,
            phone=PHONE,
            language="fr",
            consent_at=to_utc_text(now_utc()),
            state={"welcomed": True, "topics_chosen": True},
        )
        contacts.attach_identity(db, contact_id, channel="telegram", address=str(ZINEB.id))
        contacts.attach_identity(db, contact_id, channel="whatsapp", address=PHONE)
        return contact_id
    finally:
        db.close()


def whatsapp(url: str, text: str) -> None:
    """Zineb writes on WhatsApp: Twilio posts her message, signed, to the bot's web app."""
    form = inbound_form(PHONE, text, ProfileName=NAME)
    answer = httpx.post(
        f"{url}/whatsapp/inbound",
        data=form,
        timeout=5,
        headers={"X-Twilio-Signature": sign("/whatsapp/inbound", form)},
    )
    assert answer.status_code == 200


def talk_broadcast_and_block(
    url: str, bot_api: FakeBotAPI, twilio: FakeTwilio, database: Path
) -> None:
    """Zineb talks on both channels and shares her number; a broadcast reaches her; then
    she blocks the bot on Telegram and WhatsApp refuses her number. Blocking: run it beside
    the bot (a subprocess, or a thread when the bot is on the test's event loop)."""
    bot_api.text(ZINEB, "/start")
    bot_api.contact(ZINEB, PHONE)
    wait_for(lambda: len(bot_api.messages(ZINEB)) >= 2)
    whatsapp(url, "menu")
    wait_for(lambda: twilio.bodies(PHONE))

    db = open_database(database)
    try:
        published = broadcasts.publish(
            db,
            texts={"*": "Nouvelle session de soudage"},
            audience=Audience(),
            due_at=now_utc(),
            created_by="cli:test",
            now=now_utc(),
        )
        wait_for(
            lambda: (
                deliveries.report(db, published.announcement_id).outstanding == 0
                and deliveries.report(db, published.announcement_id).total > 0
            )
        )
    finally:
        db.close()

    bot_api.block(ZINEB)
    before = len(bot_api.calls_to("sendMessage"))
    bot_api.text(ZINEB, "/menu")
    wait_for(
        lambda: (
            len(bot_api.calls_to("sendMessage")) > before
            or not _identity_active(database, "telegram", str(ZINEB.id))
        )
    )
    twilio.refuse_for(PHONE, 400, 63003, "not a WhatsApp number")
    whatsapp(url, "aide")
    wait_for(lambda: not _identity_active(database, "whatsapp", PHONE))


def _identity_active(database: Path, channel: str, address: str) -> bool:
    db = open_database(database)
    try:
        found = contacts.identity(db, channel, address)
        return bool(found and found.active)
    finally:
        db.close()


@pytest.mark.parametrize(
    ("log", "args"), [("", ()), ('[log]\nformat = "json"', ("-v",))], ids=["text", "json-verbose"]
)
def test_logs_name_contacts_by_id_only(
    tmp_path: Path, own_bot_api: FakeBotAPI, own_twilio: FakeTwilio, log: str, args: tuple[str, ...]
) -> None:
    port = free_port()
    config = write_both_channels_config(tmp_path, own_bot_api, own_twilio, port, more=log)
    contact_id = enrol_zineb(tmp_path / "formabot.db")
    bot = RunningBot(config, ENV, port, *args)
    try:
        talk_broadcast_and_block(bot.url, own_bot_api, own_twilio, tmp_path / "formabot.db")
        err = bot.stop()
    finally:
        bot.kill()
    lines = err.splitlines()
    assert "formabot stopped" in lines[-1]
    for secret in SECRETS:
        assert secret not in err, f"{secret!r} in the log:\n{err}"
    if log:
        entries = [json.loads(line) for line in lines]  # every line is one JSON object
        assert {"time", "level", "logger", "message"} <= set(entries[0])
        messages = [entry["message"] for entry in entries]
    else:
        messages = lines
        assert all(line[:4].isdigit() for line in lines), err  # each starts with its time
    assert any(f"telegram: contact {contact_id} is unreachable" in line for line in messages)
    assert any(f"whatsapp reply to contact {contact_id} not sent" in line for line in messages)
    assert "Traceback" not in err


# --- the formatters ---------------------------------------------------------------------------


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    entry = logging.LogRecord("bot.test", logging.WARNING, __file__, 1, message, args, None)
    entry.__dict__.update(extra)
    return entry


def test_a_newline_in_a_message_cannot_forge_a_line() -> None:
    forged = record("refused %s", "x\n2026-11-29 10:00:00 INFO bot: all is well")
    text = logs.formatter("text").format(forged)
    assert "\n" not in text and "x\\n2026" in text
    entry = json.loads(logs.formatter("json").format(forged))
    assert entry["message"] == "refused x\n2026-11-29 10:00:00 INFO bot: all is well"


def test_json_lines_carry_extra_fields_and_the_traceback() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record(
            "handler failed for contact %s", 7, channel="whatsapp", exc_info=sys.exc_info()
        )
    line = logs.formatter("json").format(failed)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["message"], entry["channel"], entry["level"]) == (
        "handler failed for contact 7",
        "whatsapp",
        "WARNING",
    )
    assert "ValueError: boom" in entry["exception"]
    text = logs.formatter("text").format(failed)
    assert text.splitlines()[0].endswith("handler failed for contact 7")
    assert all(line.startswith("    ") for line in text.splitlines()[1:])


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match='expected "text" or "json"'):
        logs.formatter("xml")


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            '[log]\nformat = "xml"\n',
            '[log] format = \'xml\': expected "text" (one readable line per event) or "json"',
        ),
        ('[log]\nlevel = "debug"\n', "[log] level: unknown key; expected one of format"),
    ],
)
def test_a_bad_log_section_is_one_line_naming_the_key(tmp_path: Path, text: str, said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    assert said in str(error.value)
    assert "\n" not in str(error.value)
