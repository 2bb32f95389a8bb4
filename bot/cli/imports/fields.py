"""Parsers for the values of import files, shared by the CSV and TOML forms.

Each takes a value as it came out of the file (CSV text, or a TOML string, number, table or
date), returns it in the form storage wants, or raises `FieldError` quoting the value and
saying what was expected, so that the operator can fix the cell without reading code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar

from bot.cli.imports.problems import FieldError
from bot.oneline import one_line
from handlers.phones import InvalidPhone, normalize_phone
from storage.contacts import LANGUAGES
from storage.names import clean_name
from storage.zones import UnknownZone, local_to_utc, now_utc, zone

T = TypeVar("T")

# A session id travels in 64-byte Telegram callback data and in deep links `session_<id>`
# (A-Za-z0-9_- only, 64 characters at most), so it is short, lowercase and plain.
SESSION_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
TOPIC_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,29}")

_WALL_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TOPIC_SEPARATORS = re.compile(r"[\s;,]+")


Parser = Callable[[Any], T]


def _show(value: Any) -> str:
    """A value as the operator wrote it: quoted text, a TOML date as text, else as is."""
    if isinstance(value, date | time):
        return f'"{value.isoformat()}"'
    return f'"{value}"' if isinstance(value, str) else repr(value)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def required_text(value: Any) -> str:
    if _is_blank(value):
        raise FieldError("is required")
    if not isinstance(value, str):
        raise FieldError(f"{_show(value)} is not text")
    return value.strip()


def optional_text(value: Any) -> str:
    return "" if _is_blank(value) else required_text(value)


def name(value: Any) -> str:
    """A name (a person's, a company's, a city, a title): required text, cleaned of control
    and bidi characters by `storage.names.clean_name`, the cleaning every other way in uses;
    a cell of nothing but such characters is refused rather than stored empty."""
    text = clean_name(required_text(value))
    if not text:
        raise FieldError(f"{_show(one_line(value))} holds no letters, only control characters")
    return text


def optional_name(value: Any) -> str:
    return "" if _is_blank(value) else name(value)


def identifier(pattern: re.Pattern[str], what: str) -> Parser[str]:
    """A parser for ids matched by `pattern`; `what` describes the rule for the operator."""

    def parse(value: Any) -> str:
        text = required_text(value)
        if not pattern.fullmatch(text):
            raise FieldError(f"{_show(text)} is not {what}")
        return text

    return parse


session_id = identifier(
    SESSION_ID,
    "a session id: 1 to 40 lowercase letters, digits, - or _, starting with a letter or digit",
)
topic_slug = identifier(
    TOPIC_SLUG,
    "a topic slug: 1 to 30 lowercase letters, digits, - or _, starting with a letter or digit",
)


def texts_by_language(value: Any) -> dict[str, str]:
    """Per-language texts ({fr, ar, en}); French or English must be there for every reader."""
    if value is None:
        raise FieldError('is required, as a table like { fr = "…", en = "…" }')
    if not isinstance(value, Mapping):
        raise FieldError(f'{_show(value)} is not a table like {{ fr = "…", en = "…" }}')
    unknown = [key for key in value if key not in LANGUAGES]
    if unknown:
        raise FieldError(f"unknown language {', '.join(map(_show, unknown))}; use fr, ar or en")
    texts: dict[str, str] = {}
    for language, text in value.items():
        if not isinstance(text, str):
            raise FieldError(f"{language} = {_show(text)} is not text")
        if cleaned := clean_name(text):
            texts[language] = cleaned
    if "fr" not in texts and "en" not in texts:
        raise FieldError("needs at least the French (fr) or English (en) text")
    return texts


def slug_list(value: Any) -> tuple[str, ...]:
    """Topic slugs, from a TOML list or text separated by spaces, `;` or `,`."""
    if _is_blank(value):
        return ()
    if isinstance(value, str):
        items: list[Any] = [item for item in _TOPIC_SEPARATORS.split(value.strip()) if item]
    elif isinstance(value, list):
        items = value
    else:
        raise FieldError(f'{_show(value)} is not a list of topics like ["soudage", "usinage"]')
    slugs: list[str] = []
    for item in items:
        slug = topic_slug(item)
        if slug not in slugs:
            slugs.append(slug)
    return tuple(slugs)


def known_slugs(value: Any, known: Collection[str], hint: str) -> tuple[str, ...]:
    """Slugs that all name a topic in `known`; `hint` says how to add a missing one."""
    slugs = slug_list(value)
    missing = [slug for slug in slugs if slug not in known]
    if missing:
        raise FieldError(f"unknown topic {', '.join(map(_show, missing))}; {hint}")
    return slugs


def wall_time(value: Any) -> datetime:
    """A local wall time (naive). An explicit UTC offset is refused: the zone says it."""
    not_a_time = f"{_show(value)} is not a date and time like 2026-12-10T10:00"
    if _is_blank(value):
        raise FieldError("is required, as a date and time like 2026-12-10T10:00")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if _has_offset(text):
            raise FieldError(_offset_refused(text))
        if not _WALL_TIME.fullmatch(text):
            raise FieldError(not_a_time)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as error:
            raise FieldError(not_a_time) from error
    else:
        raise FieldError(not_a_time)
    if moment.tzinfo is not None:
        raise FieldError(_offset_refused(value.isoformat()))
    return moment


def _has_offset(text: str) -> bool:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).tzinfo is not None
    except ValueError:
        return False


def _offset_refused(text: str) -> str:
    return (
        f"{_show(text)} has a UTC offset; write the local time (like 2026-12-10T10:00)"
        " and give the zone in timezone"
    )


def zone_name(value: Any) -> str:
    text = required_text(value)
    try:
        zone(text)
    except UnknownZone as error:
        raise FieldError(
            f'{_show(text)} is not an IANA time zone such as "Africa/Casablanca"'
        ) from error
    return text


def local_moment(wall: datetime, zone_text: str) -> datetime:
    """`wall` in `zone_text` as UTC; a wall time skipped by a clock change does not exist."""
    try:
        moment = local_to_utc(wall, zone_text)
    except ValueError as error:  # 0001-01-01 00:00 in Paris is before the year 1 in UTC
        raise FieldError(f'"{wall:%Y-%m-%dT%H:%M}" in {zone_text} is out of range') from error
    if moment.astimezone(zone(zone_text)).replace(tzinfo=None) != wall:
        raise FieldError(
            f'"{wall:%Y-%m-%dT%H:%M}" does not exist in {zone_text} (the clocks skip it)'
        )
    return moment


CAPACITY_MAX = 100_000


def capacity(value: Any) -> int:
    """A number of seats. `str.isdecimal`, not `isdigit`: "²" is a digit `int` refuses; and
    a bound, so that no number too large for SQLite gets as far as the database."""
    if isinstance(value, bool):
        raise FieldError(f"{_show(value)} is not a number of seats (0 or more)")
    seats = value
    if isinstance(value, str) and value.strip().isdecimal():
        text = value.strip()
        seats = int(text) if len(text) <= 9 else CAPACITY_MAX + 1  # int() has limits too
    if isinstance(seats, int) and seats > CAPACITY_MAX:
        raise FieldError(f"{_show(value)} is more than {CAPACITY_MAX:,} seats")
    if isinstance(seats, int) and seats >= 0:
        return seats
    if _is_blank(value):
        raise FieldError("is required, as a number of seats (0 or more)")
    raise FieldError(f"{_show(value)} is not a number of seats (0 or more)")


def one_of(*options: str) -> Parser[str | None]:
    """A parser for a closed set of words, case-insensitive; None when the value is blank."""

    def parse(value: Any) -> str | None:
        if _is_blank(value):
            return None
        text = required_text(value).lower()
        if text not in options:
            raise FieldError(f"{_show(value)} is not one of {', '.join(options)}")
        return text

    return parse


def phone(region: str) -> Parser[str]:
    def parse(value: Any) -> str:
        text = required_text(value)
        try:
            return normalize_phone(text, region)
        except InvalidPhone as error:
            raise FieldError(f"{_show(text)} is not a phone number ({error})") from error

    return parse


def consent(default_zone: str) -> Parser[datetime]:
    """When the person agreed to receive messages, as an aware datetime.

    A date alone means midnight in the bot's zone, a date and time without offset is a local
    time there, and an explicit offset (or Z) is kept: it records a known instant. A consent
    in the future is a typo, and a contact without one may not be messaged at all.
    """

    def parse(value: Any) -> datetime:
        if _is_blank(value):
            raise FieldError(
                "no consent recorded: a contact can only be imported with the date they agreed"
                " to receive messages (like 2026-01-15)"
            )
        text = required_text(value)
        try:
            if _DATE.fullmatch(text):
                moment = datetime.combine(date.fromisoformat(text), time())
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as error:
            raise FieldError(
                f"{_show(text)} is not a date like 2026-01-15 or a date and time like"
                " 2026-01-15T09:30"
            ) from error
        try:  # stored as UTC text, which has no year 0 or 10000
            aware = moment.astimezone(UTC) if moment.tzinfo else local_to_utc(moment, default_zone)
        except (OverflowError, ValueError) as error:
            raise FieldError(f"{_show(text)} is out of range") from error
        if aware > now_utc():
            raise FieldError(f"{_show(text)} is in the future")
        return aware

    return parse
