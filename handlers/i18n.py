"""Messages from the gettext catalogues (Babel), and dates formatted per locale.

Source messages are English; `t(language, "…", name=…)` looks one up in the contact's
language and fills its `{placeholders}`; `tn(language, "1 …", "{count} …", count)` picks the
plural form the language's catalogue says (Arabic has six). Catalogues are the `.po` files
under `locales/`, read once with Babel (no compiled `.mo` to keep in step). Extraction
keywords: `t:2`, `tn:2,3`, `N_`.

Arabic: every interpolated text value is wrapped in Unicode isolates (FSI … PDI) here, in one
place, so that a Latin title, place, name, phone number or code does not flip the
right-to-left line around it on a phone.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.core import get_global
from babel.dates import format_date, format_time, get_timezone_location
from babel.messages.pofile import read_po

from storage.contacts import LANGUAGES as LANGUAGES  # re-exported: handlers read it here

DOMAIN = "formabot"
LOCALES_DIR = Path(__file__).parent / "locales"
_BABEL_LOCALES = {"fr": "fr_MA", "ar": "ar_MA", "en": "en_GB"}
RIGHT_TO_LEFT = frozenset({"ar"})
FSI, PDI = "\u2068", "\u2069"  # first-strong isolate … pop directional isolate


def catalogue_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def _english_plural(count: int) -> int:
    return 0 if count == 1 else 1


@dataclass(frozen=True)
class _Catalogue:
    """One language's translations: msgid → text, or → forms for a plural message."""

    messages: dict[str, str | tuple[str, ...]] = field(default_factory=dict)
    plural: Callable[[int], int] = _english_plural


@cache
def _catalogue(language: str) -> _Catalogue:
    path = catalogue_path(language)
    if not path.exists():
        return _Catalogue()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            messages[message.id] = message.string
        elif (
            isinstance(message.id, tuple)
            and isinstance(message.string, tuple)
            and all(message.string)
        ):
            messages[message.id[0]] = tuple(message.string)
    return _Catalogue(messages, gettext.c2py(catalog.plural_expr))


def _known(language: str | None) -> str:
    return language if language in LANGUAGES else "fr"


def _fill(language: str, text: str, values: dict[str, object]) -> str:
    if not values:
        return text
    if language in RIGHT_TO_LEFT:
        values = {
            key: isolate(value) if isinstance(value, str) else value
            for key, value in values.items()
        }
    return text.format(**values)


def isolate(value: str) -> str:
    """`value` between direction isolates (nothing to isolate in an empty value)."""
    if not value or (value.startswith(FSI) and value.endswith(PDI)):
        return value
    return f"{FSI}{value}{PDI}"


def t(language: str | None, message: str, /, **values: object) -> str:
    """`message` translated into `language` (French when unknown), placeholders filled."""
    language = _known(language)
    translated = _catalogue(language).messages.get(message, message)
    if not isinstance(translated, str):  # a plural message asked for without a count
        translated = translated[0]
    return _fill(language, translated, values)


def tn(language: str | None, singular: str, plural: str, count: int, /, **values: object) -> str:
    """The form of a message that fits `count` in `language` (`{count}` filled too)."""
    language = _known(language)
    catalogue = _catalogue(language)
    forms = catalogue.messages.get(singular)
    if isinstance(forms, tuple):
        index = catalogue.plural(count)
        text = forms[index] if index < len(forms) else forms[-1]
    else:
        text = singular if count == 1 else plural
    return _fill(language, text, {"count": count, **values})


def language_name(code: str, language: str | None) -> str:
    """The name of language `code` as said inside a sentence in `language` ("arabe")."""
    name = LANGUAGE_NAMES_IN_SENTENCES.get(code)
    return t(language, name) if name else code


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


# How each channel is named to people, in one place for every reply that names one.
CHANNEL_NAMES = {"telegram": N_("Telegram"), "whatsapp": N_("WhatsApp"), "console": N_("Console")}

# How each language is named inside a sentence of another ("Tapez le message en arabe").
LANGUAGE_NAMES_IN_SENTENCES = {"fr": N_("French"), "ar": N_("Arabic"), "en": N_("English")}
