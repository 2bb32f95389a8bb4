"""The whole conversation on Telegram: PTB's real HTTP stack against the fake Bot API."""

from __future__ import annotations

import logging

import pytest
from icalendar import Calendar
from sqlite_utils import Database

from handlers.i18n import t
from storage import contacts, registrations, subscriptions
from tests.fakes.bot_api import FakeBotAPI, buttons
from tests.telegram.chat import AMINA, YOUSSEF, Chat


def contact_of(db: Database, user_id: int) -> contacts.Contact:
    identity = contacts.identity(db, "telegram", str(user_id))
    assert identity is not None
    contact = contacts.get(db, identity.contact_id)
    assert contact is not None
    return contact


async def test_onboarding_entirely_by_buttons(chat: Chat, programme: Database) -> None:
    await chat.says("/start")
    assert chat.labels == ["Français", "العربية", "English"]
    await chat.presses("Français")
    await chat.presses("Oui")
    await chat.says("Amina Alaoui")  # a name cannot be a button; everything else is
    await chat.says("Atlas")
    await chat.presses("Atlas Fonderie")
    await chat.presses("Responsable")
    await chat.presses("Soudage")
    await chat.presses("Terminé")
    assert "Tout est prêt, Amina Alaoui" in chat.last
    assert "Sessions à venir" in chat.labels
    contact = contact_of(programme, AMINA.id)
    assert (contact.language, contact.role, contact.name) == ("fr", "manager", "Amina Alaoui")
    assert contact.consent_at is not None
    assert subscriptions.topics_of(programme, contact.id) == ["soudage"]


async def test_topic_toggles_edit_the_menu_in_place(
    chat: Chat, bot_api: FakeBotAPI, programme: Database
) -> None:
    await chat.onboard()
    await chat.says("/topics")
    sent, edits = len(chat.messages), len(bot_api.calls_to("editMessageText"))
    await chat.presses("Maintenance")
    await chat.presses("Soudage")
    assert len(chat.messages) == sent  # edited, not sent anew
    assert chat.labels[:2] == ["✅ Maintenance", "⬜ Soudage"]
    assert len(bot_api.calls_to("editMessageText")) == edits + 2
    await chat.presses("Terminé")
    assert "Vous suivez\u00a0: Maintenance." in chat.last
    contact = contact_of(programme, AMINA.id)
    assert subscriptions.topics_of(programme, contact.id) == ["maintenance"]


async def test_browse_register_and_cancel(chat: Chat, programme: Database) -> None:
    await chat.onboard()
    await chat.presses("Sessions à venir")
    assert "• Soudage TIG – niveau 1 — " in chat.last
    await chat.presses("Soudage TIG")
    assert "Places restantes\u00a0: 1 sur 1" in chat.last
    await chat.presses("M’inscrire")
    assert "Votre inscription est enregistrée." in chat.last
    contact = contact_of(programme, AMINA.id)
    assert registrations.of(programme, contact.id, "tig-2026-12").status == "registered"

    await chat.presses("Annuler mon inscription")
    await chat.presses("Oui, j’annule")
    assert "Votre inscription est annulée." in chat.last
    assert registrations.of(programme, contact.id, "tig-2026-12").status == "cancelled"


async def test_calendar_file_is_sent_as_a_document(chat: Chat, bot_api: FakeBotAPI) -> None:
    await chat.onboard()
    await chat.says("/start session_tig-2026-12")
    await chat.presses("Ajouter à mon agenda")
    document = chat.messages[-1]["document"]
    assert (document["file_name"], document["mime_type"]) == ("tig-2026-12.ics", "text/calendar")
    upload = bot_api.calls_to("sendDocument")[-1].files["document"]
    event = Calendar.from_ical(upload.content).walk("VEVENT")[0]
    assert event.decoded("dtstart").isoformat() == "2026-12-10T10:00:00+00:00"


async def test_session_deep_link_opens_the_session_after_onboarding(chat: Chat) -> None:
    await chat.says("/start session_mig-2027-01")
    assert chat.labels == ["Français", "العربية", "English"]
    await chat.presses("Français")
    await chat.presses("Oui")
    await chat.says("Amina Alaoui")
    await chat.says("Atlas")
    await chat.presses("Atlas Fonderie")
    await chat.presses("Responsable")
    await chat.presses("Terminé")
    assert chat.last.startswith("Session mig-2027-01\nmardi 12 janvier 2027, 09:00–17:00")
    assert "M’inscrire" in chat.labels


async def test_topic_deep_link_follows_the_topic(chat: Chat, programme: Database) -> None:
    await chat.onboard()
    await chat.says("/start@formabot_test_bot topic_maintenance")
    contact = contact_of(programme, AMINA.id)
    assert subscriptions.topics_of(programme, contact.id) == ["maintenance", "soudage"]
    assert "Maintenance" in chat.last


async def test_button_of_a_session_deleted_since_says_so(chat: Chat) -> None:
    await chat.onboard()
    await chat.presses_data("s:gone-2025-01")
    assert chat.last == "Cette session n’existe plus."


@pytest.mark.parametrize(
    "data",
    [
        "tp",  # an action that needs an argument, without it
        "retired_act:1",  # an action this version no longer knows
        "x" * 80,  # over 64 bytes: no client could have sent it
        "<script>:&amp;",  # not an encoding we make
        "reg:../../etc/passwd",
        "",
    ],
)
async def test_stale_or_forged_button_gets_expired_and_the_menu(
    chat: Chat, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    await chat.onboard()
    await chat.presses_data(data)
    assert chat.last == "Ce bouton n’est plus valide."
    assert "Sessions à venir" in chat.labels
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


async def test_menu_that_cannot_be_edited_is_sent_anew(chat: Chat, bot_api: FakeBotAPI) -> None:
    await chat.onboard()
    await chat.says("/topics")
    toggles = chat.messages[-1]
    bot_api.delete_message(AMINA, toggles["message_id"])  # the person deleted it
    await chat.presses_data(buttons(toggles)[0][1], toggles)
    assert chat.labels[:2] == ["✅ Maintenance", "✅ Soudage"]
    assert bot_api.calls_to("editMessageText")  # tried first


async def test_html_hostile_text_is_shown_escaped(chat: Chat, bot_api: FakeBotAPI) -> None:
    await chat.onboard(name="Amina O'Brien")  # a name is letters: its apostrophe is escaped
    assert "Tout est prêt, Amina O'Brien" in chat.transcript
    sent = [call.params["text"] for call in bot_api.calls_to("sendMessage")]
    assert any("Amina O&#x27;Brien" in text for text in sent)
    assert all(call.params["parse_mode"] == "HTML" for call in bot_api.calls_to("sendMessage"))


async def test_shared_contact_stores_the_number_in_e164(chat: Chat, programme: Database) -> None:
    await chat.onboard()
    await chat.presses("Partager mon numéro")
    keyboard = chat.messages[-1]["reply_markup"]["keyboard"]
    assert keyboard == [[{"text": "Partager mon numéro", "request_contact": True}]]
    await chat.shares_contact("212612345678")  # as Telegram sends it: no +
    assert chat.last == "Merci, votre numéro est enregistré."
    assert contact_of(programme, AMINA.id).phone == "+212612345678"


async def test_someone_elses_contact_is_not_taken_as_ones_own_number(
    chat: Chat, programme: Database
) -> None:
    await chat.onboard()
    await chat.shares_contact("+212612345678", owner=YOUSSEF)
    assert contact_of(programme, AMINA.id).phone is None


async def test_a_sticker_is_not_understood_politely(chat: Chat) -> None:
    await chat.onboard()
    await chat.sends_sticker()
    assert chat.last == t("fr", "Sorry, I did not understand. Here is the menu.")


async def test_a_reply_to_a_user_who_blocked_the_bot_marks_the_identity_inactive(
    chat: Chat, bot_api: FakeBotAPI, programme: Database
) -> None:
    await chat.onboard()
    bot_api.block(AMINA)
    await chat.says("/menu")
    identity = contacts.identity(programme, "telegram", str(AMINA.id))
    assert identity is not None and not identity.active
    reason = programme.execute(
        "SELECT inactive_reason FROM identities WHERE id = ?", [identity.id]
    ).fetchone()[0]
    assert reason == "Forbidden: bot was blocked by the user"


async def test_commands_are_registered_per_language(chat: Chat, bot_api: FakeBotAPI) -> None:
    assert set(bot_api.commands) == {"fr", "ar", "en", ""}
    described = {
        language: dict((c["command"], c["description"]) for c in commands)
        for language, commands in bot_api.commands.items()
    }
    assert described["fr"]["sessions"] == "Prochaines sessions de formation"
    assert described["en"]["sessions"] == "Upcoming training sessions"
    assert described[""] == described["fr"]
    assert "start" in described["ar"]
