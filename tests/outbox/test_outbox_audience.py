"""Who receives an announcement, and the counts a coordinator previews before confirming."""

from __future__ import annotations

import pytest
from outbox_fakes import add_contact
from sqlite_utils import Database

from storage import account_links, contacts, registrations
from storage.audience import Audience, pages, preview


def names(db: Database, audience: Audience) -> list[str]:
    ids = [r.contact_id for page in pages(db, audience, page_size=2) for r in page]
    return [contacts.get(db, contact_id).name for contact_id in ids]


def test_only_consenting_contacts_with_an_active_identity_are_selected(people: Database) -> None:
    add_contact(people, "No Identity")
    blocked = add_contact(people, "Blocked", telegram="106")
    contacts.mark_identity_inactive(people, "telegram", "106", "blocked")
    assert blocked
    assert names(people, Audience(topics=("soudage",))) == ["Amina", "Youssef"]


@pytest.mark.parametrize(
    ("audience", "expected"),
    [
        (Audience(topics=("maintenance",)), ["Karim"]),
        (Audience(topics=("soudage", "maintenance")), ["Amina", "Youssef", "Karim"]),
        (Audience(roles=("trainee",)), ["Youssef"]),
        (Audience(cities=("tanger",)), ["Youssef"]),
        (Audience(companies=("M001",)), ["Amina", "Karim"]),
        (Audience(companies=("M001",), topics=("soudage",)), ["Amina"]),
        (Audience(), ["Amina", "Youssef", "Karim"]),
    ],
)
def test_audience_criteria(people: Database, audience: Audience, expected: list[str]) -> None:
    assert names(people, audience) == expected


def test_registrants_of_a_session(people: Database) -> None:
    karim_id = contacts.identity(people, "telegram", "103").contact_id
    registrations.register(people, karim_id, "mig-2027-01", 12)
    assert names(people, Audience(registrants="mig-2027-01")) == ["Karim"]


def test_a_contact_with_two_channels_gets_one_row_on_the_last_used(people: Database) -> None:
    contacts.resolve(people, channel="whatsapp", address="+212612345679")  # Karim wrote there
    recipients = [r for page in pages(people, Audience(topics=("maintenance",))) for r in page]
    assert [(r.channel, r.address) for r in recipients] == [("whatsapp", "+212612345679")]


def test_the_channel_a_person_chose_comes_before_the_last_used(people: Database) -> None:
    karim, _ = contacts.resolve(people, channel="whatsapp", address="+212612345679")
    account_links.set_preferred_channel(people, karim.id, "telegram")
    recipients = [r for page in pages(people, Audience(topics=("maintenance",))) for r in page]
    assert [r.channel for r in recipients] == ["telegram"]
    contacts.mark_identity_inactive(people, "telegram", "103", "blocked")
    recipients = [r for page in pages(people, Audience(topics=("maintenance",))) for r in page]
    assert [r.channel for r in recipients] == ["whatsapp"]


def test_preview_counts_recipients_per_channel(people: Database) -> None:
    assert preview(people, Audience()) == {"telegram": 2, "whatsapp": 1}
    assert preview(people, Audience(topics=("usinage",))) == {}
