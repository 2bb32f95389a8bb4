"""Every keyword, in every language, sent on WhatsApp (the table of tests/keyword_walk.py,
through the signed webhook and the fake Twilio)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from storage import contacts
from tests.keyword_walk import LANGUAGES, WORDS, onboarded, problems
from tests.whatsapp.phone import Phone


@pytest.mark.parametrize("command", WORDS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_keyword_works_on_whatsapp(
    amina: Phone, programme: Database, language: str, command: str
) -> None:
    contact_id = onboarded(programme, channel="whatsapp", address=amina.number, language=language)
    found: list[str] = []
    for word in WORDS[command]:
        if command == "start":
            await amina.says("STOP")
        text = await amina.says(word)
        contact = contacts.get(programme, contact_id)
        assert contact is not None
        found += problems(command, word, language, "whatsapp", text, contact)
        if command == "stop":
            await amina.says("START")
    assert found == []
