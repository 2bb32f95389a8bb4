"""Names and an announcement full of HTML and SQL metacharacters: stored exactly as typed,
shown escaped in Telegram's HTML (the person sees what was typed, never markup) and as they
are in WhatsApp's plain text, on the way in (onboarding, /start) and out (a broadcast
through the outbox on both channels)."""

from __future__ import annotations

import html
from collections.abc import Callable

from sqlite_utils import Database

from bot.app import build_telegram_sender
from bot.channels.whatsapp import WhatsAppChannel, WhatsAppSender
from bot.config import Config
from bot.outbox.dispatcher import Dispatcher
from bot.outbox.running import dispatcher_settings
from storage import announcements, contacts, coordinators, deliveries
from storage.broadcasts import IMMEDIATE_GRACE
from storage.outbox import release
from storage.zones import now_utc, zone
from tests.clock import Clock
from tests.fakes.bot_api import FakeBotAPI, User
from tests.fakes.twilio_api import FakeTwilio
from tests.outbox.outbox_fakes import add_contact

EVIL = "<b>x</b> & '; DROP TABLE contacts; -- \""
NAME = "Nour O’Brien-Alaoui"  # names are letters and joiners: markup cannot be one
EVIL_COMPANY = "Fonderie <i>Atlas</i> & Fils'; DELETE FROM companies; --"
EVIL_TEXT = 'Session <b>TIG</b> & <a href="x">co</a> \'; DROP TABLE deliveries; -- "fin"'
SALMA, NEWCOMER, RECIPIENT = User(7301, "Salma"), User(7302, "Nour"), User(7303, "Rita")
NUMBER = "+212612345677"


def sent_texts(bot_api: FakeBotAPI, user: User) -> list[str]:
    """The `text` parameters of the sendMessage calls to `user`, as they went on the wire."""
    return [
        call.params["text"]
        for call in bot_api.calls_to("sendMessage")
        if str(call.params["chat_id"]) == str(user.id)
    ]


def contact_of(db: Database, channel: str, address: str) -> contacts.Contact:
    found = contacts.identity(db, channel, address)
    assert found is not None
    contact = contacts.get(db, found.contact_id)
    assert contact is not None
    return contact


async def test_names_are_stored_verbatim_and_escaped_on_telegram(
    programme: Database, bot_api: FakeBotAPI, telegram_chat: Callable
) -> None:
    nour = telegram_chat(NEWCOMER)
    await nour.says("/start")
    await nour.presses("Français")
    await nour.presses("Oui")
    await nour.says(EVIL)  # not a name: asked again, nothing stored, the markup shown as such
    assert "Merci d’envoyer votre nom en lettres" in nour.last
    assert contact_of(programme, "telegram", str(NEWCOMER.id)).name is None
    await nour.says(NAME)
    await nour.says(EVIL_COMPANY)
    assert EVIL_COMPANY in nour.last  # "no member company matches …", as typed
    await nour.presses("Mon entreprise n’y figure pas")
    await nour.presses("Responsable")
    await nour.presses("Soudage")
    await nour.presses("Terminé")
    await nour.says("/start")
    contact = contact_of(programme, "telegram", str(NEWCOMER.id))
    assert (contact.name, contact.company_other) == (NAME, EVIL_COMPANY)
    assert programme["contacts"].count == 1 and programme["companies"].count == 2  # intact
    assert NAME in nour.last
    wire = "\n".join(sent_texts(bot_api, NEWCOMER))
    assert html.escape(EVIL_COMPANY) in wire
    assert "<b>x</b>" not in wire and "<i>Atlas</i>" not in wire


async def test_an_announcement_goes_out_escaped_on_telegram_and_verbatim_on_whatsapp(
    programme: Database,
    config: Config,
    bot_api: FakeBotAPI,
    telegram_chat: Callable,
    phone: Callable,
    whatsapp: WhatsAppChannel,
    twilio: FakeTwilio,
    clock: Clock,
) -> None:
    clock.now = now_utc()  # the outbox below runs on real time
    salma = add_contact(programme, "Salma", topics=())
    contacts.attach_identity(programme, salma, channel="telegram", address=str(SALMA.id))
    coordinators.add(programme, channel="telegram", address=str(SALMA.id), name="Salma")
    rita = add_contact(programme, "Rita", topics=("soudage",))
    contacts.attach_identity(programme, rita, channel="telegram", address=str(RECIPIENT.id))
    bot_api.meet(RECIPIENT)
    # someone on WhatsApp, set up by writing to the bot; their name is then the evil one, as
    # a contacts import may give it (onboarding only takes letters)
    nadia = phone(NUMBER)
    for answer in ("Bonjour", "1", "1", NAME, "zzz"):
        await nadia.says(answer)
    await nadia.says(_option(nadia.text, "Mon entreprise"))
    await nadia.says("1")  # Responsable
    await nadia.says(_option(nadia.text, "Soudage"))
    await nadia.says(_option(nadia.text, "Terminé"))
    contacts.update(programme, contact_of(programme, "whatsapp", NUMBER).id, name=EVIL)
    await nadia.says("/start")
    assert EVIL in nadia.text  # "Welcome back, <name>." as stored: plain text

    coordinator = telegram_chat(SALMA)
    await coordinator.says("/announce")
    await coordinator.presses("Soudage")
    await coordinator.presses("Suivant")
    await coordinator.presses("Aucune session")
    await coordinator.says(EVIL_TEXT)
    await coordinator.presses("Suivant")
    await coordinator.presses("Maintenant")
    assert EVIL_TEXT in coordinator.transcript  # the preview, escaped on the wire
    await coordinator.presses("Confirmer")
    [created] = announcements.listing(programme)
    assert created.texts == {"*": EVIL_TEXT}
    release(programme, created.id, now=clock.now, grace=IMMEDIATE_GRACE)

    telegram_sender = build_telegram_sender(config)
    dispatcher = Dispatcher(
        programme,
        telegram_sender,
        zone=zone(config.bot.timezone),
        settings=dispatcher_settings(config, "telegram"),
    )
    telegram_sender.pace = dispatcher.admit
    async with telegram_sender:
        await dispatcher.drain()
    await Dispatcher(
        programme,
        WhatsAppSender(whatsapp),
        zone=zone(config.bot.timezone),
        settings=dispatcher_settings(config, "whatsapp"),
    ).drain()

    assert {row.status for row in deliveries.of_announcement(programme, created.id)} == {"sent"}
    [received] = [message.get("text", "") for message in bot_api.messages(RECIPIENT)]
    assert EVIL_TEXT in received
    [wire] = sent_texts(bot_api, RECIPIENT)
    assert html.escape(EVIL_TEXT) in wire and "<b>TIG</b>" not in wire
    [body] = twilio.bodies(NUMBER)[-1:]
    assert EVIL_TEXT in body  # WhatsApp is plain text: exactly as typed
    assert programme["contacts"].count == 3 and programme["deliveries"].count == 2  # all there


def _option(text: str, label: str) -> str:
    """The number of the option whose label contains `label` in the last WhatsApp text."""
    for line in reversed(text.splitlines()):
        number, _, rest = line.partition(". ")
        if number.isdigit() and label in rest:
            return number
    raise AssertionError(f"no option {label!r} in {text!r}")
