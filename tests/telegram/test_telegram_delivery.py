"""Rendering replies on Telegram, as the handlers (and later the outbox) hand them over."""

from __future__ import annotations

import asyncio

from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.config import Config
from handlers import Action, Attachment, Choice, Context, Reply
from storage import contacts
from tests.conftest import NOW
from tests.fakes.bot_api import FakeBotAPI, User, buttons, utf16_length
from tests.telegram.chat import AMINA

ADDRESS = str(AMINA.id)
MENU = (Choice("Menu", Action("menu")),)


async def test_a_5000_character_text_is_split_into_messages_telegram_accepts(
    telegram: TelegramChannel, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    paragraphs = [f"Session {n} : soudage & contrôle <TIG>. " + "z" * 480 for n in range(10)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 5000
    await telegram.deliver(ADDRESS, ADDRESS, [Reply(text, choices=MENU)])
    messages = bot_api.messages(AMINA)
    assert len(messages) == 2
    assert "\n\n".join(message["text"] for message in messages) == text
    assert all(len(call.params["text"]) <= 4096 for call in bot_api.calls_to("sendMessage"))
    assert all(utf16_length(message["text"]) <= 4096 for message in messages)
    assert [buttons(message) for message in messages] == [[], [("Menu", "menu")]]


async def test_text_is_escaped_for_html(telegram: TelegramChannel, bot_api: FakeBotAPI) -> None:
    bot_api.meet(AMINA)
    await telegram.deliver(ADDRESS, ADDRESS, [Reply('Merci, <b>&"</b> !')])
    assert bot_api.messages(AMINA)[0]["text"] == 'Merci, <b>&"</b> !'
    assert bot_api.calls_to("sendMessage")[0].params["text"] == (
        "Merci, &lt;b&gt;&amp;&quot;&lt;/b&gt; !"
    )


async def test_blocked_user_marks_the_identity_inactive_and_stops_the_replies(
    telegram: TelegramChannel, bot_api: FakeBotAPI, programme: Database
) -> None:
    contacts.resolve(programme, channel="telegram", address=ADDRESS, chat_id=ADDRESS)
    bot_api.meet(AMINA)
    bot_api.block(AMINA)
    await telegram.deliver(ADDRESS, ADDRESS, [Reply("Rappel"), Reply("Encore")])
    identity = contacts.identity(programme, "telegram", ADDRESS)
    assert identity is not None and not identity.active
    assert len(bot_api.calls_to("sendMessage")) == 1


async def test_attachments_are_documents_with_their_type(
    telegram: TelegramChannel, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    await telegram.deliver(
        ADDRESS,
        ADDRESS,
        [Reply("Votre agenda", attachments=(Attachment("tig.ics", ics, "text/calendar"),))],
    )
    upload = bot_api.calls_to("sendDocument")[0].files["document"]
    assert (upload.filename, upload.content, upload.mime_type) == ("tig.ics", ics, "text/calendar")
    assert [m.get("text") or m["document"]["file_name"] for m in bot_api.messages(AMINA)] == [
        "Votre agenda",
        "tig.ics",
    ]


async def test_phone_request_with_buttons_comes_as_a_second_message(
    telegram: TelegramChannel, bot_api: FakeBotAPI
) -> None:
    bot_api.meet(AMINA)
    await telegram.deliver(
        ADDRESS, ADDRESS, [Reply("Votre numéro ?", choices=MENU, request_phone=True, language="fr")]
    )
    first, second = bot_api.messages(AMINA)
    assert buttons(first) == [("Menu", "menu")]
    assert second["text"] == "Appuyez sur le bouton ci-dessous pour partager votre numéro."
    assert second["reply_markup"]["keyboard"][0][0]["request_contact"] is True


async def test_stopping_loses_no_update(
    config: Config, bot_api: FakeBotAPI, programme: Database
) -> None:
    """Updates fetched before the stop are handled before it ends; the others stay with
    Telegram (unconfirmed) and come with the next start."""
    people = [User(8000 + n, f"P{n}") for n in range(5)]
    context = Context(db=programme, clock=lambda: NOW)
    for run in ("stopped at once", "the next"):
        channel = app.build_telegram(config, context)
        await lifecycle.start(channel.application, "fr")
        if run == "stopped at once":
            for person in people:
                bot_api.text(person, "/start")
            await asyncio.sleep(0.02)
        await lifecycle.stop(channel.application)
        answered = {call.params["chat_id"] for call in bot_api.calls_to("sendMessage")}
        pending = {u["update_id"] for u in bot_api.pending()}
        assert len(answered) + len(pending) == len(people)
    assert answered == {person.id for person in people}
