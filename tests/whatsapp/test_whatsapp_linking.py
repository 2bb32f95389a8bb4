"""One person, two channels: linked by the phone shared on Telegram or by a one-time code
said on the other side; then one profile, one copy of each notification, a chosen channel."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlite_utils import Database

from handlers import Context
from storage import account_links, contacts, registrations
from tests.conftest import NOW
from tests.people import Person
from tests.whatsapp.phone import Phone
from tests.whatsapp.test_whatsapp_conversation import onboarded


def code_in(text: str) -> str:
    found = re.search(r"\b(\d{5}-\d{5})\b", text)
    assert found, text
    return found.group(1)


def owner(db: Database, channel: str, address: str) -> int:
    identity = contacts.identity(db, channel, address)
    assert identity is not None
    return identity.contact_id


async def test_a_code_from_telegram_said_on_whatsapp_links_both(
    amina: Phone, context: Context, programme: Database
) -> None:
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    telegram.command("link")
    assert "LINK" in telegram.text and "WhatsApp" in telegram.text
    text = await amina.says(f"LINK {code_in(telegram.text)}")
    assert "partagent désormais un même profil" in text
    kept = owner(programme, "telegram", "101")
    assert owner(programme, "whatsapp", amina.number) == kept
    assert contacts.get(programme, kept).name == "Amina Alaoui"
    assert contacts.get(programme, kept).phone == amina.number  # filled from WhatsApp
    await amina.says("2")  # Sur WhatsApp
    assert account_links.preferred_channel(programme, kept) == "whatsapp"
    assert account_links.notification_identity(programme, kept)[1] == "whatsapp"


async def test_a_code_from_whatsapp_said_on_telegram_keeps_the_complete_profile(
    amina: Phone, context: Context, programme: Database
) -> None:
    await onboarded(amina)
    whatsapp_contact = owner(programme, "whatsapp", amina.number)
    code = code_in(await amina.says("lier"))
    telegram = Person(context, "101", channel="telegram")
    telegram.command("link", code)
    assert owner(programme, "telegram", "101") == whatsapp_contact
    assert "Telegram" in telegram.labels[0]


async def test_a_fresh_profile_is_kept_when_the_other_is_complete(
    amina: Phone, context: Context, programme: Database
) -> None:
    code = code_in(await amina.says("LINK"))  # a brand-new WhatsApp contact asks
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    telegram.command("link", code)
    assert owner(programme, "whatsapp", amina.number) == owner(programme, "telegram", "101")
    assert contacts.get(programme, owner(programme, "telegram", "101")).name == "Amina Alaoui"


async def test_an_expired_or_reused_code_links_nothing(amina: Phone, programme: Database) -> None:
    late = {"now": NOW}
    context = Context(db=programme, clock=lambda: late["now"])
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    telegram.command("link")
    code = code_in(telegram.text)
    late["now"] = NOW + timedelta(minutes=11)
    other = Person(context, "+212612345678", channel="whatsapp")
    other.says(f"LINK {code}")
    assert "expiré" in other.text
    assert owner(programme, "whatsapp", "+212612345678") != owner(programme, "telegram", "101")
    other.says(f"LINK {code}")  # a code is good once, even expired
    assert "expiré" in other.text


async def test_a_code_said_on_its_own_channel_is_refused(context: Context) -> None:
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    telegram.command("link")
    telegram.command("link", code_in(telegram.text))
    assert "autre canal" in telegram.text


async def test_two_telegram_profiles_cannot_be_linked(
    context: Context, programme: Database
) -> None:
    first, second = (
        Person(context, "101", channel="telegram"),
        Person(context, "102", channel="telegram"),
    )
    first.onboard(language="Français", topics=("Soudage",))
    second.onboard(language="Français", name="Karim", topics=("Soudage",))
    first.command("link")
    second.says(f"LINK {code_in(first.text)}")
    assert "impossible de les relier" in second.text
    assert owner(programme, "telegram", "101") != owner(programme, "telegram", "102")


async def test_the_phone_shared_on_telegram_links_to_the_whatsapp_profile(
    amina: Phone, context: Context, programme: Database
) -> None:
    await onboarded(amina)
    telegram = Person(context, "101", channel="telegram")
    telegram.command("start")
    telegram.shares_phone("+212 6 12 34 56 78")
    assert owner(programme, "telegram", "101") == owner(programme, "whatsapp", amina.number)
    assert "un même profil" in telegram.text


async def test_a_telegram_profile_with_history_is_not_merged_by_phone(
    amina: Phone, context: Context, programme: Database
) -> None:
    await onboarded(amina)
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    registrations.register(programme, owner(programme, "telegram", "101"), "tig-2026-12", 5)
    telegram.shares_phone("0612345678")
    assert "déjà associé à un autre profil" in telegram.text
    assert owner(programme, "telegram", "101") != owner(programme, "whatsapp", amina.number)


async def test_linked_registrations_and_topics_move_with_the_profile(
    amina: Phone, context: Context, programme: Database
) -> None:
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Maintenance",))
    code = code_in(telegram.command("link")[0].text)
    await onboarded(amina)  # a second, complete profile on WhatsApp
    whatsapp_contact = owner(programme, "whatsapp", amina.number)
    registrations.register(programme, whatsapp_contact, "tig-2026-12", 5)
    await amina.says(f"LINK {code}")
    kept = owner(programme, "telegram", "101")
    assert owner(programme, "whatsapp", amina.number) == kept
    assert registrations.of(programme, kept, "tig-2026-12").status == "registered"
    assert contacts.get(programme, whatsapp_contact) is None


async def test_a_stop_said_on_whatsapp_still_stands_after_linking_with_telegram(
    amina: Phone, context: Context, programme: Database
) -> None:
    await onboarded(amina)
    await amina.says("STOP")
    telegram = Person(context, "101", channel="telegram")
    telegram.onboard(language="Français", topics=("Soudage",))
    telegram.command("link")
    await amina.says(f"LINK {code_in(telegram.text)}")
    kept = contacts.get(programme, owner(programme, "telegram", "101"))
    assert kept is not None and owner(programme, "whatsapp", amina.number) == kept.id
    assert not kept.may_be_notified
