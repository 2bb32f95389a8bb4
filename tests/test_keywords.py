"""Every keyword, in every language, on the console: the same table the Telegram and WhatsApp
tests walk (tests/keyword_walk.py)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from handlers import Context, Inbound, handle
from storage import contacts
from tests.conftest import NOW
from tests.keyword_walk import LANGUAGES, WORDS, every_keyword_is_walked, onboarded, problems


def test_the_walk_covers_every_keyword_the_handlers_know() -> None:
    assert every_keyword_is_walked()


@pytest.mark.parametrize("command", WORDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_keyword_works_on_the_console(
    programme: Database, language: str, command: str
) -> None:
    context = Context(db=programme, clock=lambda: NOW)
    contact_id = onboarded(programme, channel="console", address="amina", language=language)

    def say(text: str) -> str:
        return "\n".join(
            reply.text for reply in handle(context, Inbound("console", "amina", text=text))
        )

    found: list[str] = []
    for word in WORDS[command]:
        if command == "start":
            say("STOP")
        text = say(word)
        contact = contacts.get(programme, contact_id)
        assert contact is not None
        found += problems(command, word, language, "console", text, contact)
        if command == "stop":
            say("START")
    assert found == []
