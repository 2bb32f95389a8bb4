"""Paths on WhatsApp, where options are numbers the person types: a list is numbered once, a
number means the same option before and after pressing one, and a way out is a word."""

from __future__ import annotations

import re

from sqlite_utils import Database

from storage import registrations
from tests.whatsapp.phone import Phone
from tests.whatsapp.test_whatsapp_conversation import contact_of, onboarded


def option(text: str, label: str) -> str:
    """The number shown for the option whose label contains `label`."""
    for line in text.splitlines():
        number, _, rest = line.partition(". ")
        if number.isdigit() and label in rest:
            return number
    raise AssertionError(f"no option {label!r} in {text!r}")


async def test_the_session_list_is_numbered_once_and_each_number_opens_its_session(
    amina: Phone,
) -> None:
    await onboarded(amina)
    text = await amina.says(option(await amina.says("menu"), "Sessions à venir"))
    assert re.search(r"^\d+\. \d+\.", text, re.MULTILINE) is None  # never "1. 1. Soudage"
    assert "• Soudage TIG – niveau 1 — " in text
    card = await amina.says(option(text, "Soudage TIG"))
    assert card.startswith("Soudage TIG – niveau 1")


async def test_a_number_means_the_same_option_after_pressing_interested(
    amina: Phone, programme: Database
) -> None:
    await onboarded(amina)
    await amina.says("/start session_mig-2027-01")
    card = amina.text
    interested, register = option(card, "Ça m’intéresse"), option(card, "M’inscrire")
    card = await amina.says(interested)
    assert (option(card, "Ça m’intéresse"), option(card, "M’inscrire")) == (interested, register)
    await amina.says(register)
    contact = contact_of(programme, amina.number)
    assert registrations.of(programme, contact.id, "mig-2027-01").status == "registered"


async def test_a_no_typed_as_a_number_is_stored_and_onboarding_goes_on(
    amina: Phone, programme: Database
) -> None:
    await amina.says("salam")
    await amina.says("1")  # Français: the consent question, 1. Oui 2. Non
    await amina.says("2")
    contact = contact_of(programme, amina.number)
    assert contact.consent_at is None and not contact.may_be_notified
    assert "nous ne vous enverrons aucune notification" in amina.text
    assert "nom" in amina.text  # and the onboarding goes on
