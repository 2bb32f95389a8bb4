"""A person's chat with the bot through the fake Bot API, one update at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.channels.telegram import TelegramChannel
from tests.fakes.bot_api import FakeBotAPI, User, buttons

AMINA = User(7001, "Amina", "fr")
YOUSSEF = User(7002, "Youssef", "ar")


class Chat:
    """A person's chat with the bot: feeds updates through getUpdates and waits for the bot."""

    def __init__(self, bot_api: FakeBotAPI, channel: TelegramChannel, user: User) -> None:
        self.bot_api = bot_api
        self.channel = channel
        self.user = user

    def as_(self, user: User) -> Chat:
        return Chat(self.bot_api, self.channel, user)

    async def settle(self, update_id: int) -> None:
        """Wait until PTB has fetched `update_id` (it confirms it on its next poll) and
        handled everything it fetched."""
        deadline = time.monotonic() + 10
        while self.bot_api.offset <= update_id:
            if time.monotonic() > deadline:
                raise AssertionError(f"update {update_id} was never fetched")
            await asyncio.sleep(0.005)
        await asyncio.wait_for(self.channel.application.update_queue.join(), 10)

    async def says(self, text: str) -> None:
        await self.settle(self.bot_api.text(self.user, text))

    async def presses(self, label: str) -> None:
        await self.settle(self.bot_api.press(self.user, label))

    async def presses_data(self, data: str, message: dict[str, Any] | None = None) -> None:
        await self.settle(self.bot_api.press_data(self.user, data, message))

    async def shares_contact(self, phone: str, owner: User | None = None) -> None:
        await self.settle(self.bot_api.contact(self.user, phone, owner=owner))

    async def sends_sticker(self) -> None:
        await self.settle(self.bot_api.sticker(self.user))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.bot_api.messages(self.user)

    @property
    def last(self) -> str:
        return self.messages[-1].get("text", "") if self.messages else ""

    @property
    def transcript(self) -> str:
        return self.bot_api.transcript(self.user)

    async def onboard(self, name: str = "Amina Alaoui") -> None:
        """The whole onboarding in French: buttons, except the name and company search."""
        await self.says("/start")
        await self.presses("Français")
        await self.presses("Oui")
        await self.says(name)
        await self.says("Atlas")
        await self.presses("Atlas Fonderie")
        await self.presses("Responsable")
        await self.presses("Soudage")
        await self.presses("Terminé")

    @property
    def labels(self) -> list[str]:
        """The buttons of the latest message that has any."""
        for message in reversed(self.messages):
            if shown := buttons(message):
                return [label for label, _ in shown]
        return []
