"""The Telegram webhook endpoint, given anything: JSON of any shape, well-formed updates with
any text or callback data (64 bytes and beyond), from any chat, with the right secret, a
wrong one or none.

Without the right secret: 403, nothing handled, the database as it was. With it: 200 for an
update (then a private message from a person gets an answer, a pressed button is
acknowledged, and nothing is logged at ERROR), 400 for what is not one, never a 500.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from bot import app
from bot.channels.telegram import TelegramChannel, lifecycle
from bot.channels.telegram.routes import (
    TELEGRAM_SECRET_HEADER,
    TelegramWebhook,
    telegram_routes,
)
from bot.config import load
from bot.web import app as web
from handlers import Context
from handlers.flood import FloodGate
from tests.conftest import NOW
from tests.fakes.bot_api import TOKEN, FakeBotAPI, User
from tests.fuzz.database import Snapshot, changed, fingerprint
from tests.fuzz.errors import Errors
from tests.fuzz.fuzzing import FUZZ, HUGE_TEXT, TEXT
from tests.fuzz.tally import count
from tests.telegram.support import write_config

SECRET = "fuzz_Secret-0123456789"
HOOK = "/telegram/hook"
PEOPLE = [User(7101, "Amina"), User(7102, "Youssef", "ar"), User(7103, "Karim", "en")]
STRANGER = User(7199, "Nobody")  # never opened a chat: the bot cannot write to them


@dataclass
class Webhook:
    runner: asyncio.Runner
    http: httpx.AsyncClient
    channel: TelegramChannel
    bot_api: FakeBotAPI
    snapshot: Snapshot

    def post(self, body: bytes, secret: str | None) -> httpx.Response:
        """Post `body` as Telegram would, then wait until the update was handled."""
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[TELEGRAM_SECRET_HEADER] = secret
        response = self.runner.run(self.http.post(HOOK, content=body, headers=headers))
        self.runner.run(asyncio.wait_for(self.channel.application.update_queue.join(), 10))
        return response


@pytest.fixture(scope="module")
def bot_api_server() -> Iterator[FakeBotAPI]:
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def webhook(programme: Database, bot_api_server: FakeBotAPI, tmp_path: Path) -> Iterator[Webhook]:
    bot_api = bot_api_server
    bot_api.reset()
    for person in PEOPLE:
        bot_api.meet(person)
    config = load(
        write_config(
            tmp_path, bot_api, f'mode = "webhook"\nwebhook_url = "https://bot.example.org{HOOK}"'
        ),
        environ={"FORMABOT_TELEGRAM_TOKEN": TOKEN, "FORMABOT_TELEGRAM_WEBHOOK_SECRET": SECRET},
    )
    context = Context(db=programme, clock=lambda: NOW, flood=FloodGate(burst=10**9))
    with asyncio.Runner() as runner:
        channel = app.build_telegram(config, context)
        runner.run(lifecycle.start(channel.application, "fr"))
        hook = TelegramWebhook(HOOK, SECRET, channel.receive)
        served = web.create_app(routes=telegram_routes(hook))
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=served), base_url="http://bot")
        try:
            yield Webhook(runner, http, channel, bot_api, Snapshot(programme))
        finally:
            runner.run(http.aclose())
            runner.run(lifecycle.stop(channel.application))


# --- what may be posted -------------------------------------------------------------------

UPDATE_KEYS = [
    "update_id",
    "message",
    "callback_query",
    "edited_message",
    "chat",
    "from",
    "text",
    "data",
    "id",
    "contact",
    "entities",
    "date",
    "message_id",
    "type",
]
JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(UPDATE_KEYS), TEXT), inner, max_size=5),
    ),
    max_leaves=12,
)
KNOWN_IDS = st.sampled_from([person.id for person in PEOPLE])
IDS = st.one_of(KNOWN_IDS, KNOWN_IDS, KNOWN_IDS, st.just(STRANGER.id), st.integers(-(2**63), 2**63))
TEXTS = st.one_of(
    TEXT,
    HUGE_TEXT,
    st.sampled_from(
        [
            "/start",
            "/start session_tig-2026-12",
            "/start topic_soudage",
            "/start@formabot_bot",
            "/sessions",
            "/report 99999999999999999999",
            "/roster \ud800",
            "/link 123456",
            "STOP",
            "/" + "x" * 40,
            "/",
            "",
            "1",
        ]
    ),
)
CALLBACK_DATA = st.one_of(
    TEXT,
    st.text(max_size=100),
    st.from_regex(r"[a-z_]{1,12}(:[A-Za-z0-9_.\-]{0,20}){0,3}", fullmatch=True),
    st.sampled_from(
        [
            "lang:fr",
            "consent:yes",
            "s:tig-2026-12",
            "reg:tig-2026-12",
            "ss:5",
            "co:99999999999999999999999",
            "tp:soudage",
            "expired",
            "x" * 65,
        ]
    ),
)


@st.composite
def people(draw: st.DrawFn) -> dict[str, Any]:
    user = {
        "id": draw(IDS),
        "is_bot": not draw(st.integers(0, 7)),
        "first_name": draw(st.one_of(st.just("Amina"), TEXT)),
    }
    if draw(st.booleans()):
        user["language_code"] = draw(st.sampled_from(["fr", "ar", "en", "de", ""]))
    return user


@st.composite
def messages(draw: st.DrawFn, user: dict[str, Any]) -> dict[str, Any]:
    chat_type = draw(st.sampled_from(["private"] * 6 + ["group", "supergroup", "channel"]))
    message: dict[str, Any] = {
        "message_id": draw(st.integers(1, 2**31)),
        "date": draw(st.integers(0, 2**32)),
        "chat": {"id": user["id"] if chat_type == "private" else draw(IDS), "type": chat_type},
        "from": user,
    }
    what = draw(st.sampled_from(["text", "text", "text", "contact", "sticker", "nothing"]))
    if what == "text":
        message["text"] = draw(TEXTS)
        if message["text"].startswith("/") and draw(st.booleans()):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": draw(st.integers(-1, 50))}
            ]
    elif what == "contact":
        message["contact"] = {
            "phone_number": draw(
                st.one_of(
                    TEXT, st.sampled_from(["212612345678", "+212612345678", "0612345678", "+1"])
                )
            ),
            "first_name": "Amina",
            "user_id": draw(st.one_of(st.just(user["id"]), IDS)),
        }
    elif what == "sticker":
        message["sticker"] = {
            "file_id": "s",
            "file_unique_id": "s",
            "type": "regular",
            "width": 1,
            "height": 1,
            "is_animated": False,
            "is_video": False,
        }
    return message


@st.composite
def updates(draw: st.DrawFn) -> dict[str, Any]:
    """A well-formed update (a message or a pressed button), now and then with a key gone."""
    user = draw(people())
    update: dict[str, Any] = {"update_id": draw(st.integers(0, 2**31))}
    if draw(st.booleans()):
        update["message"] = draw(messages(user))
    else:
        query: dict[str, Any] = {
            "id": draw(st.one_of(st.just("q1"), TEXT)),
            "from": user,
            "chat_instance": "ci",
            "data": draw(CALLBACK_DATA),
        }
        if draw(st.integers(0, 4)):
            query["message"] = draw(messages(user))
        update["callback_query"] = query
    if not draw(st.integers(0, 9)):
        body = update.get("message") or update["callback_query"]
        body.pop(draw(st.sampled_from(sorted(body))))
    return update


SECRETS = st.sampled_from([SECRET] * 6 + [None, "", "guessed", SECRET + " ", SECRET.upper()])


def _answered(webhook: Webhook, update: dict[str, Any]) -> bool | None:
    """Whether the person got an answer, or None when none is owed: not a private chat of a
    person the bot may write to, or not a whole update."""
    body = update.get("message") or update.get("callback_query") or {}
    user = body.get("from") or {}
    message = body.get("message", body) if "callback_query" in update else body
    chat = message.get("chat", {}) if isinstance(message, dict) else {}
    person = next((p for p in PEOPLE if p.id == user.get("id")), None)
    if person is None or user.get("is_bot") or "update_id" not in update:
        return None
    if chat and (chat.get("type") != "private" or chat.get("id") != person.id):
        return None
    if "message" in update and (
        "chat" not in body or "date" not in body or "message_id" not in body
    ):
        return None
    return bool(webhook.bot_api.messages(person))


@settings(FUZZ, max_examples=500)
@given(payload=st.one_of(updates(), updates(), JSON), secret=SECRETS)
def test_any_update_posted_to_the_webhook(
    webhook: Webhook, errors: Errors, payload: Any, secret: str | None
) -> None:
    count("telegram webhook")
    webhook.snapshot.restore()
    webhook.bot_api.reset()
    for person in PEOPLE:
        webhook.bot_api.meet(person)
    if isinstance(payload, dict) and isinstance(payload.get("callback_query"), dict):
        query_id = payload["callback_query"].get("id")
        if isinstance(query_id, str):
            webhook.bot_api.callback_queries.add(query_id)
    response = webhook.post(json.dumps(payload).encode(), secret)
    errors.check(payload)
    event(f"webhook: {response.status_code}")
    tables = changed(webhook.snapshot.fingerprint, fingerprint(webhook.channel.context.db))
    if secret != SECRET:
        assert response.status_code == 403
        assert tables == [] and webhook.bot_api.calls == []
        return
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert tables == [] and webhook.bot_api.calls == []
        return
    answered = _answered(webhook, payload)
    if answered is not None:
        event("webhook: a person answered")
        assert answered, f"no answer to {payload!r}"


@settings(FUZZ, max_examples=150)
@given(
    body=st.one_of(
        st.binary(max_size=200), TEXT.map(lambda text: text.encode("utf-8", "surrogatepass"))
    ),
    secret=SECRETS,
)
def test_any_bytes_posted_to_the_webhook(
    webhook: Webhook, errors: Errors, body: bytes, secret: str | None
) -> None:
    count("telegram webhook")
    webhook.snapshot.restore()
    response = webhook.post(body, secret)
    errors.check(body)
    assert response.status_code in ((200, 400) if secret == SECRET else (403,))
    if response.status_code != 200:
        assert changed(webhook.snapshot.fingerprint, fingerprint(webhook.channel.context.db)) == []
