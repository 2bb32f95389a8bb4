"""People read the federation's name from `[brand]` as the sender, never the product's."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from handlers import Context
from handlers.brand import Brand
from tests.conftest import NOW
from tests.people import Person

FIMME = Brand(name="Formation FIMME", federation="FIMME", school="École FIMME")
LANGUAGE_BUTTONS = ("Français", "العربية", "English")


def _new_person(programme: Database, brand: Brand, language: str) -> Person:
    person = Person(Context(db=programme, clock=lambda: NOW, brand=brand))
    person.command("start")
    person.presses(language)
    return person


@pytest.mark.parametrize("language", LANGUAGE_BUTTONS)
def test_consent_names_the_configured_sender_and_organisers(
    programme: Database, language: str
) -> None:
    person = _new_person(programme, FIMME, language)
    assert "Formation FIMME" in person.text
    assert "FIMME" in person.text.replace("Formation FIMME", "")
    assert "École FIMME" in person.text
    assert "formabot" not in person.text


@pytest.mark.parametrize("language", LANGUAGE_BUTTONS)
def test_welcome_and_help_name_the_configured_sender(programme: Database, language: str) -> None:
    person = Person(Context(db=programme, clock=lambda: NOW, brand=FIMME))
    person.onboard(language=language, topics=())
    person.command("help")
    assert person.text.startswith("Formation FIMME") or "Formation FIMME" in person.text
    assert "formabot" not in person.text


def test_without_a_brand_the_texts_speak_of_the_federation(programme: Database) -> None:
    french = _new_person(programme, Brand(), "Français")
    assert "de la fédération et de son école d’ingénieurs" in french.text
    assert "formabot" not in french.text
    arabic = Person(Context(db=programme, clock=lambda: NOW), "sara")
    arabic.command("start")
    arabic.presses("العربية")
    assert "الجامعة" in arabic.text and "formabot" not in arabic.text


def test_a_federation_alone_is_the_sender(programme: Database) -> None:
    person = _new_person(programme, Brand(federation="FIMME"), "English")
    assert person.text.startswith("FIMME sends training announcements")


def test_the_link_code_says_whom_to_send_it_to(programme: Database) -> None:
    person = Person(
        Context(db=programme, clock=lambda: NOW, brand=FIMME), "amina", channel="telegram"
    )
    person.onboard(language="Français", topics=())
    person.command("link")
    assert "à Formation FIMME sur WhatsApp" in person.text
    unbranded = Person(Context(db=programme, clock=lambda: NOW), "sara", channel="telegram")
    unbranded.onboard(language="Français", topics=())
    unbranded.command("link")
    assert "envoyez-nous «\u00a0LINK" in unbranded.text
