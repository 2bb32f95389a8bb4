"""Every keyword, in every language, typed in a Telegram chat (the table of
tests/keyword_walk.py, through PTB and the fake Bot API)."""

from __future__ import annotations

import pytest
from sqlite_utils import Database

from storage import contacts
from tests.keyword_walk import LANGUAGES, WORDS, onboarded, problems
from tests.telegram.chat import Chat


@pytest.mark.parametrize("command", WORDS)
@pytest.mark.parametrize("language", LANGUAGES)
async def test_every_keyword_works_on_telegram(
    chat: Chat, programme: Database, language: str, command: str
) -> None:
    contact_id = onboarded(
        programme, channel="telegram", address=str(chat.user.id), language=language
    )

    async def say(text: str) -> str:
        before = len(chat.messages)
        await chat.says(text)
        return "\n".join(message.get("text", "") for message in chat.messages[before:])

    found: list[str] = []
    for word in WORDS[command]:
        if command == "start":
            await say("STOP")
        text = await say(word)
        contact = contacts.get(programme, contact_id)
        assert contact is not None
        found += problems(command, word, language, "telegram", text, contact)
        if command == "stop":
            await say("START")
    assert found == []
