"""A small fake of the Telegram Bot API, on 127.0.0.1, for python-telegram-bot's real HTTP stack.

It is served by uvicorn in a background thread, so that both async tests (the bot in the
test's event loop) and subprocesses (`formabot run`) talk to it over real HTTP. It records
every call with its parameters, answers the methods the bot uses as Telegram would —
including Telegram's refusals: unparsable HTML, texts over 4,096 characters, button data over
64 bytes, editing a message into itself, a blocked user (403) — and keeps each chat's
messages as a person would see them (entities decoded, edits applied). `set_faults` and
`refuse_next` make sendMessage misbehave (latency, 5xx, hangs, 429s, enforced rate limits;
see `bot_api_faults`), for the outbox's reliability tests; off by default.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.fakes.bot_api_faults import Conditions, Faults, Refusal
from tests.fakes.server import LocalServer

TOKEN = "123456:AAFakeTokenForTests_0123456789abcdef"
BOT_USER = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Formabot",
    "username": "formabot_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
BLOCKED = "Forbidden: bot was blocked by the user"
# Parameters Telegram takes as strings; everything else PTB sends JSON-encoded.
_STRING_PARAMETERS = {
    "text",
    "caption",
    "parse_mode",
    "callback_query_id",
    "url",
    "secret_token",
    "language_code",
    "description",
    "short_description",
    "name",
}
_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
}
_MARKUP = re.compile(
    r"</?([A-Za-z][A-Za-z0-9-]*)[^<>]*>|&(#x[0-9a-fA-F]+|#[0-9]+|[A-Za-z]+);|[<>&]"
)
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND = re.compile(r"^/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?")


class ApiError(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


@dataclass(frozen=True)
class User:
    """A person on Telegram; their private chat with the bot has the same id."""

    id: int
    first_name: str = "Amina"
    language_code: str = "fr"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }

    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", "first_name": self.first_name}


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, Upload] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


def visible_text(text: str) -> str:
    """What a person sees of an HTML-mode text; ApiError where Telegram would refuse it."""
    out: list[str] = []
    position = 0
    for match in _MARKUP.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        tag, entity = match.groups()
        if tag is not None:
            if tag.lower() not in _TAGS:
                raise ApiError(
                    400,
                    f"Bad Request: can't parse entities: unsupported start tag"
                    f' "{tag}" at byte offset {match.start()}',
                )
            continue
        if entity is not None:
            if entity.startswith("#x"):
                out.append(chr(int(entity[2:], 16)))
            elif entity.startswith("#"):
                out.append(chr(int(entity[1:])))
            elif entity in _NAMED:
                out.append(_NAMED[entity])
            else:
                raise ApiError(400, "Bad Request: can't parse entities: unsupported HTML entity")
            continue
        raise ApiError(
            400,
            f"Bad Request: can't parse entities: unexpected {match.group()!r}"
            f" at byte offset {match.start()}",
        )
    out.append(text[position:])
    return "".join(out)


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class FakeBotAPI(LocalServer):
    """Start with `start()`, point the bot at `base_url`, feed updates, read what it did."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._ids = itertools.count(1000)
        self.reset()

    # --- running -------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        return [Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])]

    def close(self) -> None:
        self._closing = True  # long polls answer at once
        super().close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def reset(self) -> None:
        """Forget everything but the running server: each test starts from here."""
        with self._lock:
            self.calls: list[Call] = []
            self.chats: dict[int, dict[int, dict[str, Any]]] = {}
            self.blocked: set[int] = set()
            self.commands: dict[str, list[dict[str, str]]] = {}
            # Menus scoped to one chat (BotCommandScopeChat), by (chat id, language code).
            self.chat_commands: dict[tuple[int, str], list[dict[str, str]]] = {}
            self.webhook: dict[str, Any] | None = None
            self.callback_queries: set[str] = set()
            self.answered: set[str] = set()
            self._updates: list[dict[str, Any]] = []
            self.offset = 0  # every update below it has been confirmed by the bot
            self.last_update_id = 0
            self._closing = False
            self.conditions = Conditions()

    def set_faults(self, **faults: Any) -> Conditions:
        """Latency, 5xx, hangs, 429s and rate limits on sendMessage (see `Faults`)."""
        with self._lock:
            self.conditions = Conditions(Faults(**faults))
            return self.conditions

    def refuse_next(
        self, user: User, code: int, description: str, retry_after: float | None = None
    ) -> None:
        """The next sendMessage to `user` gets this error (then answers resume)."""
        with self._lock:
            self.conditions.scripted.setdefault(str(user.id), []).append(
                Refusal(code, description, retry_after)
            )

    # --- what the test does --------------------------------------------------------------

    def meet(self, user: User) -> None:
        """The user has opened a chat with the bot (Telegram refuses to write first)."""
        with self._lock:
            self.chats.setdefault(user.id, {})

    def block(self, user: User) -> None:
        with self._lock:
            self.blocked.add(user.id)

    def delete_message(self, user: User, message_id: int) -> None:
        with self._lock:
            self.chats.get(user.id, {}).pop(message_id, None)

    def push(self, user: User, body: dict[str, Any]) -> int:
        """Queue one update for getUpdates; its id."""
        self.meet(user)
        with self._lock:
            update_id = next(self._ids)
            self._updates.append({"update_id": update_id, **body})
            self.last_update_id = update_id
        return update_id

    def update(self, user: User, body: dict[str, Any]) -> dict[str, Any]:
        """An update as Telegram would post it to a webhook (not queued)."""
        self.meet(user)
        return {"update_id": next(self._ids), **body}

    def message(self, user: User, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": user.chat(),
            "from": user.as_dict(),
            **content,
        }
        text = content.get("text", "")
        if command := _COMMAND.match(text):
            message["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(command.group())}
            ]
        return {"message": message}

    def text(self, user: User, text: str) -> int:
        return self.push(user, self.message(user, text=text))

    def contact(self, user: User, phone_number: str, *, owner: User | None = None) -> int:
        owner = owner or user
        return self.push(
            user,
            self.message(
                user,
                contact={
                    "phone_number": phone_number,
                    "first_name": owner.first_name,
                    "user_id": owner.id,
                },
            ),
        )

    def sticker(self, user: User) -> int:
        return self.push(
            user,
            self.message(
                user,
                sticker={
                    "file_id": "sticker-1",
                    "file_unique_id": "s1",
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                },
            ),
        )

    def callback(self, user: User, data: str, message: dict[str, Any] | None) -> dict[str, Any]:
        query_id = f"q{next(self._ids)}"
        with self._lock:
            self.callback_queries.add(query_id)
        query: dict[str, Any] = {
            "id": query_id,
            "from": user.as_dict(),
            "chat_instance": f"ci{user.id}",
            "data": data,
        }
        if message is not None:
            query["message"] = _as_returned(message)
        return {"callback_query": query}

    def press(self, user: User, label: str) -> int:
        """Press the button whose label contains `label` on the latest message showing one."""
        for message in reversed(self.messages(user)):
            for text, data in buttons(message):
                if label in text:
                    return self.push(user, self.callback(user, data, message))
        shown = [text for message in self.messages(user) for text, _ in buttons(message)]
        raise AssertionError(f"no button {label!r}; buttons shown: {shown}")

    def press_data(self, user: User, data: str, message: dict[str, Any] | None = None) -> int:
        """A callback query with any data, e.g. forged, on `message` (default the latest)."""
        messages = self.messages(user)
        if message is None and messages:
            message = messages[-1]
        return self.push(user, self.callback(user, data, message))

    # --- what the test reads -------------------------------------------------------------

    def messages(self, user: User) -> list[dict[str, Any]]:
        """The bot's messages in the user's chat, oldest first, as they look now."""
        with self._lock:
            chat = self.chats.get(user.id, {})
            return [dict(message) for _, message in sorted(chat.items())]

    def transcript(self, user: User) -> str:
        return "\n".join(message.get("text", "") for message in self.messages(user))

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method.lower()]

    def pending(self) -> list[dict[str, Any]]:
        """Updates the bot has not confirmed yet (Telegram would deliver them again)."""
        with self._lock:
            return [u for u in self._updates if u["update_id"] >= self.offset]

    def unanswered(self) -> set[str]:
        with self._lock:
            return self.callback_queries - self.answered

    # --- the API -------------------------------------------------------------------------

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401
            )
        method = request.path_params["method"].lower()
        params, files = _parameters(request.headers.get("content-type", ""), await request.body())
        call = Call(method, params, files)
        with self._lock:
            self.calls.append(call)
            conditions = self.conditions
        if method == "sendmessage":
            try:
                await conditions.admit(str(params.get("chat_id")), call.at)
            except Refusal as refusal:
                return _refused(refusal)
        try:
            if method == "getupdates":
                result: Any = await self._get_updates(params)
            else:
                answer = getattr(self, f"_api_{method}", None)
                if answer is None:
                    raise ApiError(404, "Not Found")
                with self._lock:
                    result = answer(params, files)
        except ApiError as error:
            return JSONResponse(
                {"ok": False, "error_code": error.code, "description": error.description},
                status_code=error.code,
            )
        if method == "sendmessage":
            await conditions.answered()
        return JSONResponse({"ok": True, "result": _as_returned(result)})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: answer as soon as an update is queued, or after `timeout` seconds."""
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 30)
        offset = params.get("offset")
        while True:
            with self._lock:
                if offset is not None:
                    self.offset = max(self.offset, int(offset))
                ready = [u for u in self._updates if u["update_id"] >= self.offset]
                self._updates = ready
            if ready or time.monotonic() >= deadline or self._closing:
                return ready[: int(params.get("limit") or 100)]
            await asyncio.sleep(0.01)

    def _api_getme(self, params: dict[str, Any], files: dict[str, Upload]) -> dict[str, Any]:
        return BOT_USER

    def _api_setmycommands(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        for command in params["commands"]:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command["command"]):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command["description"]) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {}
        if scope.get("type") == "chat":
            key = (int(scope["chat_id"]), params.get("language_code", ""))
            self.chat_commands[key] = params["commands"]
        else:
            self.commands[params.get("language_code", "")] = params["commands"]
        return True

    def _api_setwebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        secret = params.get("secret_token", "")
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = params
        return True

    def _api_deletewebhook(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        self.webhook = None
        return True

    def _api_answercallbackquery(self, params: dict[str, Any], files: dict[str, Upload]) -> bool:
        query_id = params["callback_query_id"]
        if query_id not in self.callback_queries or query_id in self.answered:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self.answered.add(query_id)
        return True

    def _api_sendmessage(self, params: dict[str, Any], files: dict[str, Upload]) -> dict:
        chat = self._chat(params["chat_id"])
        message = self._new_message(params["chat_id"], params.get("reply_markup"))
        message["text"] = _message_text(params)
        chat[message["message_id"]] = message
        return message

    def _api_editmessagetext(self, params: dict[str, Any], files: dict[str, Upload]) -> dict:
        chat = self._chat(params["chat_id"])
        message = chat.get(int(params["message_id"]))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        text, markup = _message_text(params), params.get("reply_markup")
        _check_markup(markup)
        if text == message.get("text") and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message"
                " content and reply markup are exactly the same as a current"
                " content and reply markup of the message",
            )
        message = {**message, "text": text, "edit_date": int(time.time())}
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        chat[message["message_id"]] = message
        return message

    def _api_senddocument(self, params: dict[str, Any], files: dict[str, Upload]) -> dict:
        chat = self._chat(params["chat_id"])
        upload = files.get("document")
        if upload is None:
            raise ApiError(400, "Bad Request: there is no document in the request")
        message = self._new_message(params["chat_id"], params.get("reply_markup"))
        message["document"] = {
            "file_id": f"doc{message['message_id']}",
            "file_unique_id": f"d{message['message_id']}",
            "file_name": upload.filename,
            "mime_type": upload.mime_type,
            "file_size": len(upload.content),
        }
        chat[message["message_id"]] = message
        return message

    def _chat(self, chat_id: Any) -> dict[int, dict[str, Any]]:
        chat_id = int(chat_id)
        if chat_id in self.blocked:
            raise ApiError(403, BLOCKED)
        if chat_id not in self.chats:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return self.chats[chat_id]

    def _new_message(self, chat_id: Any, markup: dict[str, Any] | None) -> dict[str, Any]:
        _check_markup(markup)
        message: dict[str, Any] = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "from": BOT_USER,
            "chat": {"id": int(chat_id), "type": "private", "first_name": "Amina"},
        }
        if markup is not None:
            message["reply_markup"] = markup
        return message


def _refused(refusal: Refusal) -> JSONResponse:
    body: dict[str, Any] = {
        "ok": False,
        "error_code": refusal.code,
        "description": refusal.description,
    }
    if refusal.retry_after is not None:
        body["parameters"] = {"retry_after": refusal.retry_after}
    return JSONResponse(body, status_code=refusal.code)


def _as_returned(result: Any) -> Any:
    """Telegram's Message shows only an inline keyboard; a reply keyboard is kept here for the
    tests to read but never sent back."""
    markup = result.get("reply_markup") if isinstance(result, dict) else None
    if markup is not None and "inline_keyboard" not in markup:
        return {key: value for key, value in result.items() if key != "reply_markup"}
    return result


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, callback_data) of a message's inline keyboard."""
    keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(button["text"], button.get("callback_data", "")) for row in keyboard for button in row]


def _message_text(params: dict[str, Any]) -> str:
    raw = str(params.get("text", ""))
    text = visible_text(raw) if params.get("parse_mode", "").upper() == "HTML" else raw
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_length(text) > 4096:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _check_markup(markup: dict[str, Any] | None) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            if len(button.get("callback_data", "").encode()) > 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _parameters(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, Upload]]:
    """PTB posts form fields (multipart when there is a file); non-string values are JSON."""
    fields: dict[str, str] = {}
    files: dict[str, Upload] = {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = Upload(part.get_filename(), content, part.get_content_type())
            else:
                fields[name] = content.decode()
    elif content_type.startswith("application/json"):
        return json.loads(body or b"{}"), files
    elif body:
        fields = dict(parse_qsl(body.decode(), keep_blank_values=True))
    return {key: _decoded(key, value) for key, value in fields.items()}, files


def _decoded(key: str, value: str) -> Any:
    if key in _STRING_PARAMETERS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value
