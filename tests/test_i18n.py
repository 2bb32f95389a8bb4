"""The three catalogues are complete, and their placeholders match the source messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.commands.i18n import extracted_messages, missing_translations
from handlers.i18n import LANGUAGES, catalogue_path, t

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"{(\w+)}")


def test_messages_are_found_in_the_code() -> None:
    messages = extracted_messages(ROOT)
    assert "What would you like to do?" in messages
    assert "registered" in messages  # marked with N_ and translated later


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    assert missing_translations(ROOT).get(language, []) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    with catalogue_path(language).open("rb") as handle:
        catalog = read_po(handle, locale=language)
    broken = [
        message.id for message in catalog
        if message.id and message.string
        and set(PLACEHOLDER.findall(message.id)) != set(PLACEHOLDER.findall(message.string))
    ]
    assert broken == []


def test_lookup_falls_back_to_french_for_an_unknown_language() -> None:
    assert t("xx", "Menu") == t("fr", "Menu")
