"""The console channel: the same handlers in a terminal, for trying the bot with no credentials.

Replies are printed with their choices numbered; a line of input is a choice's number, a
`/command`, or free text. Reads any text stream, so a script can drive it through a pipe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from handlers import Context, Inbound, Reply, handle
from storage import private_files

CHANNEL = "console"


class ConsoleChannel:
    def __init__(self, context: Context, *, name: str, attachments_dir: Path,
                 write: Callable[[str], None]) -> None:
        self.context = context
        self.name = name
        self.attachments_dir = attachments_dir
        self.write = write
        self.choices: list = []
        self.awaiting_phone = False

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
        shown = []
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
        if shown:
            self.choices = shown

    def run(self, lines: Iterable[str], *, prompt: Callable[[], None] | None = None) -> None:
        self.send("/start")
        if prompt:
            prompt()
        for line in lines:
            if line.strip().lower() in ("/quit", "/exit"):
                break
            if line.strip():
                self.send(line)
            if prompt:
                prompt()
