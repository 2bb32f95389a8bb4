"""A whole conversation over WhatsApp: numbered options, answers by number and by words,
keywords at odd moments, long texts, calendar files."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from bot.channels.whatsapp import WhatsAppChannel
from handlers import Context
from storage import contacts, subscriptions
from tests.fakes.twilio_api import SENDER, FakeTwilio
from tests.whatsapp.phone import PUBLIC_URL, Phone


def contact_of(db: Database, number: str) -> contacts.Contact:
    identity = contacts.identity(db, "whatsapp", number)
    assert identity is not None
    found = contacts.get(db, identity.contact_id)
    assert found is not None
    return found


async def test_onboarding_by_numbers(amina: Phone, programme: Database) -> None:
    text = await amina.says("Bonjour")
    assert "1. Français" in text and "2. العربية" in text and "3. English" in text
    assert "Répondez 1, 2 ou 3." in text
    assert "Oui" in await amina.says("1")
    assert "nom" in await amina.says("1")
    await amina.says("Amina Alaoui")
    text = await amina.says("atlas")
    assert "Atlas Fonderie — Casablanca" in text and "Atlas Mécanique — Tanger" in text
    assert "rôle" in await amina.says("1")
    text = await amina.says("1")
    assert "Soudage" in text and "Terminé" in text
    await amina.says(str(_number_of(text, "Soudage")))
    text = await amina.says(str(_number_of(amina.text, "Terminé")))
    assert "Amina Alaoui" in text
    contact = contact_of(programme, amina.number)
    assert contact.language == "fr" and contact.role == "manager"
    assert contact.phone == amina.number  # the WhatsApp number, known without asking
    assert subscriptions.topics_of(programme, contact.id) == ["soudage"]
    for message in amina.twilio.messages:
        assert message.field("From") == SENDER
        assert message.field("To") == f"whatsapp:{amina.number}"
        assert message.field("StatusCallback") == f"{PUBLIC_URL}/whatsapp/status"


def _number_of(text: str, label: str) -> int:
    for line in text.splitlines():
        number, _, rest = line.partition(". ")
        if number.isdigit() and label in rest:
            return int(number)
    raise AssertionError(f"no option {label!r} in {text!r}")


async def test_onboarding_by_words(amina: Phone, programme: Database) -> None:
    await amina.says("salam")
    assert "Oui" in await amina.says("francais")  # no accent, any case
    assert "nom" in await amina.says("OUI, J'ACCEPTE")
    await amina.says("Amina Alaoui")
    await amina.says("atlas")
    assert "rôle" in await amina.says("fonderie")  # a word of one option only
    await amina.says("responsable")
    await amina.says("soudage")
    text = await amina.says("terminé")
    assert "Amina Alaoui" in text
    assert contact_of(programme, amina.number).company_id is not None


async def test_an_ambiguous_word_is_a_new_search(amina: Phone) -> None:
    await amina.says("salam")
    await amina.says("1")
    await amina.says("1")
    await amina.says("Amina Alaoui")
    await amina.says("atlas")
    text = await amina.says("atl")  # starts both options: typed letters, searched again
    assert "Atlas Fonderie" in text


@pytest.mark.parametrize("word", ["STOP", "ARRÊT", "arret", "توقف", " Stop "])
async def test_stop_mid_onboarding_opts_out_in_one_message(
    amina: Phone, programme: Database, word: str
) -> None:
    await amina.says("salam")
    await amina.says("1")
    await amina.says("1")  # consent given; the name is being asked
    await amina.says(word)
    assert len(amina.received) == 1
    assert "plus aucune notification" in amina.text
    assert contact_of(programme, amina.number).opted_out_at is not None


async def test_start_after_stop_turns_notifications_back_on(
    amina: Phone, programme: Database
) -> None:
    await amina.says("salam")
    await amina.says("1")
    await amina.says("1")
    await amina.says("STOP")
    await amina.says("start")
    assert contact_of(programme, amina.number).opted_out_at is None


async def test_menu_and_help_keywords(amina: Phone, context: Context) -> None:
    await onboarded(amina)
    text = await amina.says("menu")
    assert "1. Sessions à venir" in text
    text = await amina.says("AIDE")
    assert "/sessions" in text
    assert "Soudage TIG" in await amina.says("1")  # the menu's options still answer


async def test_a_sentence_with_stop_in_it_is_not_the_keyword(
    amina: Phone, programme: Database
) -> None:
    await onboarded(amina)
    await amina.says("stop the welding reminders please")
    assert contact_of(programme, amina.number).opted_out_at is None


async def test_options_survive_a_restart(
    amina: Phone, channel: WhatsAppChannel, settings, context: Context, twilio: FakeTwilio, http
) -> None:
    await amina.says("salam")
    # The options live in the database: a new channel object (a restart) still knows them.
    again = WhatsAppChannel(settings, context)
    try:
        await again.handle_message({"From": f"whatsapp:{amina.number}", "Body": "3"})
        assert "consent" in contact_of(context.db, amina.number).state.get("wa_options")[0][1]
        assert contact_of(context.db, amina.number).language == "en"
    finally:
        await again.close()


async def test_long_texts_are_split_at_whatsapps_limit(channel: WhatsAppChannel) -> None:
    from handlers.types import Reply

    paragraph = "Soudage TIG, niveau 1. " * 30
    rendered = channel.rendered([Reply("\n\n".join([paragraph] * 6), language="fr")])
    bodies = [message.body for message in rendered.messages]
    assert len(bodies) >= 3
    assert all(len(body) <= 1600 for body in bodies)
    assert all(body.endswith("niveau 1.") for body in bodies)


async def test_calendar_file_as_a_date_line_without_media_url(amina: Phone) -> None:
    await onboarded(amina)
    await amina.says("/sessions")
    await amina.says("1")  # the first session's card
    text = await amina.says(str(_number_of(amina.text, "agenda")))
    assert "À noter dans votre agenda\u00a0: " in text and "10 décembre 2026" in text
    assert all(not message.form.get("MediaUrl") for message in amina.twilio.messages)


async def onboarded(phone: Phone) -> None:
    for text in ("salam", "1", "1", "Amina Alaoui", "atlas", "1", "1"):
        await phone.says(text)
    await phone.says(str(_number_of(phone.text, "Soudage")))
    await phone.says(str(_number_of(phone.text, "Terminé")))
