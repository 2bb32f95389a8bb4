"""How a `Reply` looks on WhatsApp: plain text in pieces Twilio accepts, numbered options.

WhatsApp (through Twilio) has no inline buttons outside approved templates, so choices are
written as numbered lines, followed by "Répondez 1, 2 ou 3" in the person's language; the
number or the option's words come back as text (`options.match`). A body is at most 1,600
characters; a longer text is cut between paragraphs, then lines, then words. An `.ics` file
goes as media when a public URL serves it, else as a plain-text date line.
Pure functions, apart from publishing a file to the media store it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from icalendar import Calendar

from bot.channels.splitting import split_text, utf16_length
from bot.channels.whatsapp.messages import Outbound
from handlers.i18n import format_span, t
from handlers.types import Attachment, Choice, Reply

BODY_LIMIT = 1_600
Publish = Callable[[Attachment], str]  # an attachment → the public URL serving it


def length(text: str) -> int:
    """Length as Twilio counts a body: UTF-16 code units."""
    return utf16_length(text)


def split_body(text: str, limit: int = BODY_LIMIT) -> list[str]:
    """`text` in pieces of at most `limit`, cut between paragraphs, else lines, else words;
    only a word longer than a message is cut inside."""
    return split_text(text, limit, utf16_length)


def reply_line(language: str, numbers: Sequence[int]) -> str:
    """ "Répondez 1, 2 ou 3." in `language`."""
    if len(numbers) == 1:
        return t(language, "Reply {number}.", number=numbers[0])
    head = ", ".join(str(number) for number in numbers[:-1])
    return t(language, "Reply {numbers} or {last}.", numbers=head, last=numbers[-1])


def options_block(choices: Sequence[Choice], first: int, language: str) -> str:
    numbers = list(range(first, first + len(choices)))
    lines = [f"{number}. {choice.label}" for number, choice in zip(numbers, choices, strict=True)]
    return "\n".join(lines) + "\n\n" + reply_line(language, numbers)


@dataclass(frozen=True)
class Rendered:
    messages: tuple[Outbound, ...]
    options: tuple[Choice, ...]  # numbered from the `first` given, in order


def render(
    reply: Reply, *, first: int = 1, zone: ZoneInfo, publish: Publish | None = None
) -> Rendered:
    """The Twilio messages for `reply`; its choices are numbered from `first`."""
    language = reply.language
    text = reply.text
    media: list[str] = []
    for attachment in reply.attachments:
        if publish is not None:
            media.append(publish(attachment))
        elif (line := date_line(attachment, zone, language)) is not None:
            text = f"{text}\n\n{line}" if text else line
    bodies = split_body(text)
    if reply.choices:
        block = options_block(reply.choices, first, language)
        if bodies and length(f"{bodies[-1]}\n\n{block}") <= BODY_LIMIT:
            bodies[-1] = f"{bodies[-1]}\n\n{block}"
        else:
            bodies.extend(split_body(block))
    messages = [Outbound(body=body) for body in bodies]
    messages.extend(Outbound(media_url=(url,)) for url in media)
    return Rendered(tuple(messages), tuple(reply.choices))


def render_all(
    replies: Sequence[Reply], *, zone: ZoneInfo, publish: Publish | None = None
) -> Rendered:
    """Several replies, their choices numbered on from one message to the next."""
    messages: list[Outbound] = []
    options: list[Choice] = []
    for reply in replies:
        rendered = render(reply, first=len(options) + 1, zone=zone, publish=publish)
        messages.extend(rendered.messages)
        options.extend(rendered.options)
    return Rendered(tuple(messages), tuple(options))


def date_line(attachment: Attachment, zone: ZoneInfo, language: str) -> str | None:
    """The event of an `.ics` file as a sentence, for when no URL can serve the file."""
    if not attachment.filename.endswith(".ics"):
        return None
    try:
        calendar = Calendar.from_ical(attachment.content)
    except ValueError:
        return None
    for event in calendar.walk("VEVENT"):
        starts, ends = event.get("dtstart"), event.get("dtend")
        if starts is None or not isinstance(starts.dt, datetime):
            continue
        end = ends.dt if ends is not None and isinstance(ends.dt, datetime) else starts.dt
        when = format_span(starts.dt, end, zone, language)
        title = str(event.get("summary", ""))
        return t(language, "To note in your calendar: {title}, {when}.", title=title, when=when)
    return None


__all__ = ["BODY_LIMIT", "Rendered", "render", "render_all", "split_body"]
