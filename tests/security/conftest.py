"""Both channels at once on one `Context` (as `formabot run` builds them), with a clock the
test moves: Telegram polling the fake Bot API, WhatsApp behind its signed webhook answering
through the fake Twilio. The fake servers' fixtures are the channels' own suites'."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Config, load
from handlers import Context
from tests.clock import Clock
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.twilio_api import FakeTwilio
from tests.telegram.chat import Chat
from tests.telegram.conftest import bot_api, bot_api_server
from tests.telegram.support import write_config
from tests.whatsapp.conftest import (
    channel,
    http,
    settings,
    twilio,
    twilio_server,
)
from tests.whatsapp.phone import Phone


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def context(programme: Database, clock: Clock) -> Context:
    return Context(db=programme, clock=clock)


@pytest.fixture
def config(tmp_path: Path, bot_api: FakeBotAPI) -> Config:
    return load(write_config(tmp_path, bot_api), environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN})


@pytest.fixture
async def telegram(config: Config, context: Context) -> AsyncIterator[TelegramChannel]:
    bot = app.build_telegram(config, context)
    await lifecycle.start(bot.application, config.bot.default_language, db=context.db)
    try:
        yield bot
    finally:
        await lifecycle.stop(bot.application)


@pytest.fixture
def whatsapp(channel: WhatsAppChannel) -> WhatsAppChannel:
    """tests/whatsapp's channel, on this directory's context (its moving clock)."""
    return channel


@pytest.fixture
def telegram_chat(
    bot_api: FakeBotAPI,
    telegram: TelegramChannel,
) -> Iterator[Callable]:
    """A chat of `user` with the bot; every button press was answered at the end."""
    yield lambda user: Chat(bot_api, telegram, user)
    assert bot_api.unanswered() == set()


@pytest.fixture
def phone(
    http: httpx.AsyncClient,
    whatsapp: WhatsAppChannel,
    twilio: FakeTwilio,
) -> Callable:
    """The phone of `number` on WhatsApp, posting signed messages."""
    return lambda number: Phone(http, whatsapp, twilio, number)
