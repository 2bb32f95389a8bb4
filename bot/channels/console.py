"""The console channel: the same handlers in a terminal, for trying the bot with no credentials.

Replies are printed with their choices numbered; a line of input is a choice's number, a
`/command`, or free text. Reads any text stream, so a script can drive it through a pipe.

It behaves as WhatsApp does: the numbers typed answer the options shown last, and a reply
with no options (a free-text question: a name, a company) clears them, so that a digit typed
there is text, never a stale button. Notifications come through the outbox like on every
channel: `ConsoleSender` hands a row to the person's console "phone" (the row is `sent`),
and the shell of that person shows it (the row becomes `delivered`) — at once when it is
their shell that is open, else the next time they open it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bot.outbox.dispatcher import DispatcherSettings, SendResult
from handlers import Context, Inbound, Reply, handle
from storage import private_files
from storage.deliveries import Delivery

CHANNEL = "console"
PROVIDER_PREFIX = "console-"
NOTIFICATION_MARK = "────────"
# The console has no platform limit; one row at a time keeps what is shown in order. Quiet
# hours do not apply to it either: it is the operator's terminal (see `console_outbox`).
SETTINGS = DispatcherSettings(rate_per_second=1000.0, per_chat_per_second=0.0, concurrency=1)


class ConsoleChannel:
    def __init__(
        self, context: Context, *, name: str, attachments_dir: Path, write: Callable[[str], None]
    ) -> None:
        self.context = context
        self.name = name
        self.attachments_dir = attachments_dir
        self.write = write
        self.choices: list = []
        self.awaiting_phone = False
        self.shown_count = 0  # notifications shown so far
        self.at_prompt = False  # "> " is on the screen, waiting for the person

    def greet(
        self, *, notifications: bool, program: str = "formabot shell", leaving: str = "/quit leaves"
    ) -> None:
        """The operator's first line. Nothing is sent on the person's behalf: like a phone,
        the person speaks first (a `/start` sent for them would re-subscribe someone who had
        sent STOP, and drop a coordinator's draft)."""
        self.write(
            f'{program}: you are "{self.name}". Write /start (or anything) to begin; {leaving}.'
        )
        if not notifications:
            self.write(
                "Notifications are sent by `formabot run` (this configuration serves a"
                " platform): the console receives none."
            )
        self.write("")

    def inbound(self, line: str) -> Inbound:
        """What a line of input means, given the choices shown last."""
        text = line.strip()
        if self.awaiting_phone and text and not text.startswith("/"):
            self.awaiting_phone = False
            return Inbound(CHANNEL, self.name, phone=text)
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Inbound(CHANNEL, self.name, action=self.choices[int(text) - 1].action)
        if text.startswith("/") and len(text) > 1:
            command, _, argument = text[1:].partition(" ")
            return Inbound(CHANNEL, self.name, command=command.lower(), argument=argument)
        return Inbound(CHANNEL, self.name, text=text)

    def send(self, line: str) -> None:
        self.render(handle(self.context, self.inbound(line)))

    def render(self, replies: list[Reply]) -> None:
        """The answer to what the person typed: its options replace those shown before,
        and an answer with none (a question to answer in words) leaves none."""
        self.choices = self._write(replies)

    def notify(self, reply: Reply) -> None:
        """A notification from the outbox, set apart from the conversation. Its options, when
        it has some, are the ones a number now answers (as on WhatsApp); one without options
        leaves the conversation's options as they were."""
        self.shown_count += 1
        if self.at_prompt:  # a notification that arrives while the person is typing
            self.write("")
            self.at_prompt = False
        self.write(NOTIFICATION_MARK)
        shown = self._write([reply])
        if shown:
            self.choices = shown

    def _write(self, replies: list[Reply]) -> list:
        shown: list = []
        self.awaiting_phone = False
        for reply in replies:
            self.write(reply.text)
            for attachment in reply.attachments:
                private_files.make_directory(self.attachments_dir)  # a roster is personal
                path = self.attachments_dir / attachment.filename
                private_files.replace(path, attachment.content)
                self.write(f"  [{attachment.filename}: {path}]")
            for choice in reply.choices:
                shown.append(choice)
                self.write(f"  {len(shown)}. {choice.label}")
            if reply.request_phone:
                self.awaiting_phone = True
                self.write("  (type your phone number)")
            self.write("")
        return shown


class ConsoleSender:
    """The outbox's way to the console: the row is handed to the person's console, where
    their shell shows it (`ConsoleChannel.notify`) and reports it delivered."""

    channel = CHANNEL

    async def send(self, delivery: Delivery, rendered: Reply) -> SendResult:
        return SendResult.sent(f"{PROVIDER_PREFIX}{delivery.id}")
