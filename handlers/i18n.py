"""Messages from the gettext catalogues (Babel), and dates formatted per locale.

Source messages are English; `t(language, "…", name=…)` looks one up in the contact's
language and fills its `{placeholders}`. Catalogues are the `.po` files under `locales/`,
read once with Babel (no compiled `.mo` to keep in step). Extraction keyword: `t:2`.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.pofile import read_po

LANGUAGES = ("fr", "ar", "en")
DOMAIN = "formabot"
LOCALES_DIR = Path(__file__).parent / "locales"
_BABEL_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def _catalogue(language: str) -> dict[str, str]:
    path = catalogue_path(language)
    if not path.exists():
        return {}
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    return {
        message.id: message.string
        for message in catalog
        if message.id and isinstance(message.id, str) and message.string and not message.fuzzy
    }


def t(language: str | None, message: str, /, **values: object) -> str:
    """`message` translated into `language` (French when unknown), placeholders filled."""
    translated = _catalogue(language if language in LANGUAGES else "fr").get(message, message)
    return translated.format(**values) if values else translated


def format_when(moment: datetime, zone: ZoneInfo, language: str | None) -> str:
    """A local date and time, e.g. « jeudi 10 décembre 2026 à 10:00 »."""
    locale = _BABEL_LOCALES.get(language or "fr", "fr_MA")
    local = moment.astimezone(zone)
    return t(
        language,
        "{date} at {time}",
        date=format_date(local, format="full", locale=locale),
        time=format_time(local, format="HH:mm", locale=locale),
    )


def format_span(starts: datetime, ends: datetime, zone: ZoneInfo, language: str | None) -> str:
    """A session's span in local time: one day with two times, or two dated ends."""
    locale = _BABEL_LOCALES.get(language or "fr", "fr_MA")
    start, end = starts.astimezone(zone), ends.astimezone(zone)
    if start.date() == end.date():
        return t(
            language,
            "{date}, {start}–{end}",
            date=format_date(start, format="full", locale=locale),
            start=format_time(start, format="HH:mm", locale=locale),
            end=format_time(end, format="HH:mm", locale=locale),
        )
    return t(
        language,
        "from {start} to {end}",
        start=format_when(start, zone, language),
        end=format_when(end, zone, language),
    )


def N_(message: str) -> str:
    """Marks a message for extraction where it is translated later (`t(language, variable)`)."""
    return message


def zone_label(zone_name: str, language: str | None) -> str:
    """How people name the local time of `zone_name`, for prompts that ask for a time: « heure
    du Maroc », «بتوقيت المغرب», "Morocco time" — not a raw IANA name. Derived from the zone's
    country (CLDR); a zone outside Morocco gets CLDR's own wording ("heure : France")."""
    territory = get_global("zone_territories").get(zone_name)
    if territory == "MA":
        return t(language, "Morocco time")
    if territory is None:  # UTC, Etc/GMT+1: no country to name
        return zone_name
    locale = _BABEL_LOCALES.get(language or "fr", "fr_MA")
    try:
        return get_timezone_location(zone_name, locale=locale)
    except LookupError:
        return zone_name
