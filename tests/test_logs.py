"""The bot's log, as `formabot run` writes it: one line per event, text or JSON (`[log]
format`), and contacts by id only: a person's phone number, name and Telegram id never
appear, whatever they did (talked on both channels, shared their number, got a broadcast,
blocked the bot)."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from bot import logs
from bot.config import ConfigError, load
from storage import broadcasts, contacts, deliveries, open_database
from storage.audience import Audience
from storage.zones import now_utc, to_utc_text
from tests.fakes.bot_api import TOKEN, FakeBotAPI, User
from tests.fakes.twilio_api import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.telegram.support import free_port
from tests.whatsapp.phone import PUBLIC_URL, inbound_form, sign

FORMABOT = Path(sys.executable).with_name("formabot")
PHONE = "+212661234567"
NAME = "Zineb Tazi"
ZINEB = User(918273645, "Zineb")
SECRETS = (PHONE, PHONE.lstrip("+"), "661234567", NAME, "Tazi", str(ZINEB.id), TOKEN,
           AUTH_TOKEN)
ENV = {"FORMABOT_TELEGRAM_TOKEN": TOKEN, "FORMABOT_TWILIO_ACCOUNT_SID": ACCOUNT_SID,
       "FORMABOT_TWILIO_AUTH_TOKEN": AUTH_TOKEN}


def wait_for(condition: Callable[[], object], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.fixture
def bot_api() -> Iterator[FakeBotAPI]:
    server = FakeBotAPI()
    server.start()
    yield server
    server.close()


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    server = FakeTwilio()
    server.start()
    yield server
    server.close()


def write_config(directory: Path, bot_api: FakeBotAPI, twilio: FakeTwilio, port: int,
                 log: str) -> Path:
    path = directory / "config.toml"
    path.write_text(f"""
[bot]
database = "formabot.db"
quiet_hours = ""

[telegram]
base_url = "{bot_api.base_url}"
base_file_url = "{bot_api.base_file_url}"

[whatsapp]
api_base_url = "{twilio.base_url}"
from = "{SENDER}"
public_url = "{PUBLIC_URL}"

[web]
port = {port}

{log}
""", encoding="utf-8")
    return path


def enrol_zineb(database: Path) -> int:
    """Zineb, who consented, on Telegram and on WhatsApp."""
    db = open_database(database)
    try:
        contact_id = contacts.create(db, name=NAME, phone=PHONE, language="fr",
                                     consent_at=to_utc_text(now_utc()),
                                     state={"welcomed": True, "topics_chosen": True})
        contacts.attach_identity(db, contact_id, channel="telegram", address=str(ZINEB.id))
        contacts.attach_identity(db, contact_id, channel="whatsapp", address=PHONE)
        return contact_id
    finally:
        db.close()


class Bot:
    """`formabot run` in a subprocess, on both channels."""

    def __init__(self, config: Path, port: int, *args: str) -> None:
        env = {key: value for key, value in os.environ.items()
               if not key.startswith("FORMABOT_")}
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [str(FORMABOT), "--config", str(config), "run", *args], env={**env, **ENV},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_for(self.listening)

    def listening(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"formabot run exited: {self.process.communicate()[1]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1).status_code > 0
        except httpx.TransportError:
            return False

    def stop(self) -> str:
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=20)
        assert self.process.returncode == 0, err
        return err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def whatsapp(url: str, text: str) -> None:
    """Zineb writes on WhatsApp: Twilio posts her message, signed, to the bot's web app."""
    form = inbound_form(PHONE, text, ProfileName=NAME)
    answer = httpx.post(f"{url}/whatsapp/inbound", data=form, timeout=5,
                        headers={"X-Twilio-Signature": sign("/whatsapp/inbound", form)})
    assert answer.status_code == 200


def talk_broadcast_and_block(url: str, bot_api: FakeBotAPI, twilio: FakeTwilio,
                             database: Path) -> None:
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
        published = broadcasts.publish(db, texts={"*": "Nouvelle session de soudage"},
                                       audience=Audience(), due_at=now_utc(),
                                       created_by="cli:test", now=now_utc())
        wait_for(lambda: deliveries.report(db, published.announcement_id).outstanding == 0
                 and deliveries.report(db, published.announcement_id).total > 0)
    finally:
        db.close()

    bot_api.block(ZINEB)
    before = len(bot_api.calls_to("sendMessage"))
    bot_api.text(ZINEB, "/menu")
    wait_for(lambda: len(bot_api.calls_to("sendMessage")) > before
             or not _identity_active(database, "telegram", str(ZINEB.id)))
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


@pytest.mark.parametrize(("log", "args"), [("", ()), ('[log]\nformat = "json"', ("-v",))],
                         ids=["text", "json-verbose"])
def test_logs_name_contacts_by_id_only(tmp_path: Path, bot_api: FakeBotAPI, twilio: FakeTwilio,
                                       log: str, args: tuple[str, ...]) -> None:
    port = free_port()
    config = write_config(tmp_path, bot_api, twilio, port, log)
    contact_id = enrol_zineb(tmp_path / "formabot.db")
    bot = Bot(config, port, *args)
    try:
        talk_broadcast_and_block(bot.url, bot_api, twilio, tmp_path / "formabot.db")
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
        failed = record("handler failed for contact %s", 7, channel="whatsapp",
                        exc_info=sys.exc_info())
    line = logs.formatter("json").format(failed)
    assert "\n" not in line
    entry = json.loads(line)
    assert (entry["message"], entry["channel"], entry["level"]) == (
        "handler failed for contact 7", "whatsapp", "WARNING")
    assert "ValueError: boom" in entry["exception"]
    text = logs.formatter("text").format(failed)
    assert text.splitlines()[0].endswith("handler failed for contact 7")
    assert all(line.startswith("    ") for line in text.splitlines()[1:])


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="expected \"text\" or \"json\""):
        logs.formatter("xml")


@pytest.mark.parametrize(("text", "said"), [
    ('[log]\nformat = "xml"\n',
     "[log] format = 'xml': expected \"text\" (one readable line per event) or \"json\""),
    ("[log]\nlevel = \"debug\"\n", "[log] level: unknown key; expected one of format"),
])
def test_a_bad_log_section_is_one_line_naming_the_key(tmp_path: Path, text: str,
                                                      said: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load(path, environ={})
    assert said in str(error.value)
    assert "\n" not in str(error.value)
