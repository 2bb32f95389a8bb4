"""The small parsers every channel and file goes through: phone numbers, durations, local
times, button data, WhatsApp's numbered answers and keywords. Each either gives a value that
holds its promise or refuses with its own error, whatever it is given."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.channels.whatsapp.options import match
from bot.durations import is_duration, is_span, parse_duration
from handlers.keywords import KEYWORDS, as_command, command_for
from handlers.phones import InvalidPhone, normalize_phone
from handlers.types import ACTION_MAX_BYTES, Action, Inbound, storable
from storage.zones import UnknownZone, parse_local, zone
from tests.fuzz.fuzzing import FUZZ, SPECIAL, TEXT
from tests.fuzz.tally import count

E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")

# --- phone numbers ------------------------------------------------------------------------

PHONE_LIKE = st.builds(
    lambda prefix, digits, separators: (
        prefix
        + "".join(digit + separator for digit, separator in zip(digits, separators, strict=False))
    ),
    st.sampled_from(
        [
            "",
            "+",
            "00",
            "0",
            "06",
            "07",
            "+212",
            "00212",
            "(+212) ",
            "+33",
            "+1",
            " ",
            "+0",
            "٠٦",
            "+2120",
        ]
    ),
    st.text(st.sampled_from("0123456789٠١٢٣٤٥٦٧٨٩"), max_size=18),
    st.lists(
        st.sampled_from(["", "", "", " ", ".", "-", "/", "(", ")", "x", "#", ";", "\t"]),
        max_size=18,
    ),
)


@settings(FUZZ, max_examples=700)
@given(st.one_of(PHONE_LIKE, TEXT), st.sampled_from(["MA", "FR", "US", "ZZ", "", "ma"]))
def test_a_phone_is_e164_or_refused_with_a_reason(text: str, region: str) -> None:
    count("handlers.phones.normalize_phone")
    try:
        number = normalize_phone(text, region)
    except InvalidPhone as error:
        reason = str(error)
        assert reason and "\n" not in reason
        return
    assert E164.match(number), number
    assert normalize_phone(number, region) == number  # stored numbers stay as they are


# --- durations and spans ------------------------------------------------------------------

DURATION_LIKE = st.builds(
    lambda space, number, unit, tail: f"{space}{number}{unit}{tail}",
    st.sampled_from(["", " ", "\t", "-", "+"]),
    st.one_of(st.integers(0, 99_999).map(str), st.text(SPECIAL, max_size=4)),
    st.sampled_from(["d", "h", "m", "s", "D", "w", "", "ms", "٣"]),
    st.sampled_from(["", " ", "\n", "x"]),
)


@settings(FUZZ, max_examples=600)
@given(st.one_of(DURATION_LIKE, TEXT))
def test_a_duration_is_a_timedelta_or_a_value_error(text: str) -> None:
    count("bot.durations.parse_duration")
    try:
        duration = parse_duration(text)
    except ValueError as error:
        assert not is_duration(text)
        assert "expected a number and a unit" in str(error)
        return
    assert is_duration(text)
    assert timedelta(0) <= duration <= timedelta(days=9_999)


@settings(FUZZ, max_examples=300)
@given(st.one_of(st.builds("{:02d}:{:02d}-{:02d}:{:02d}".format, *[st.integers(0, 99)] * 4), TEXT))
def test_a_span_is_recognised_without_raising(text: str) -> None:
    count("bot.durations.is_span")
    if is_span(text) and text:
        start, end = text.split("-")
        for clock in (start, end):
            hours, minutes = clock.split(":")
            assert 0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59


# --- local date and time ------------------------------------------------------------------

ZONES = st.sampled_from(
    ["Africa/Casablanca", "UTC", "Pacific/Kiritimati", "America/Adak", "Asia/Tokyo", "Europe/Paris"]
)
LOCAL_LIKE = st.builds(
    lambda year, month, day, hour, minute, gap: f"{year}-{month}-{day}{gap}{hour}:{minute}",
    st.one_of(st.sampled_from([1, 9999, 2026]), st.integers(0, 10_000)).map(
        lambda year: f"{year:04d}"
    )
    | st.sampled_from(["٢٠٢٦", "26"]),
    st.one_of(st.sampled_from([1, 12]), st.integers(0, 13)).map(lambda month: f"{month:02d}"),
    st.one_of(st.sampled_from([1, 31]), st.integers(0, 32)).map(lambda day: f"{day:02d}"),
    st.one_of(st.sampled_from([0, 23]), st.integers(0, 25)).map(str),
    st.one_of(st.sampled_from([0, 59]), st.integers(0, 61)).map(lambda minute: f"{minute:02d}"),
    st.sampled_from([" ", "  ", "\t", "T", "\n", " \u00a0"]),
)


@settings(FUZZ, max_examples=700)
@given(st.one_of(LOCAL_LIKE, TEXT), ZONES)
def test_a_local_time_is_an_aware_utc_moment_or_a_value_error(text: str, zone_name: str) -> None:
    count("storage.zones.parse_local")
    try:
        moment = parse_local(text, zone_name)
    except ValueError:
        return
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)
    assert moment.tzinfo == UTC


@settings(FUZZ, max_examples=400)
@given(
    st.one_of(
        TEXT,
        st.sampled_from(
            [
                "Africa",
                "Africa/Casablanca",
                "America",
                "Etc",
                "posix",
                "right",
                "UTC",
                "Europe/Paris/",
                "tzdata",
                "zone.tab",
                "../UTC",
                "a" * 300,
            ]
        ),
    )
)
def test_a_zone_name_is_a_zone_or_unknown(name: str) -> None:
    count("storage.zones.zone")
    with contextlib.suppress(UnknownZone):
        zone(name)


# --- button data --------------------------------------------------------------------------

ACTION_ARG = st.text(st.sampled_from("abcxyz0129_.-"), max_size=20)
WELL_FORMED = st.builds(
    lambda name, args: ":".join([name, *args]),
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"), min_size=1, max_size=14),
    st.lists(ACTION_ARG, max_size=4),
)
RAW_DATA = st.one_of(
    TEXT,
    WELL_FORMED,
    st.text(max_size=200),
    st.binary(max_size=96).map(lambda raw: raw.decode("utf-8", "replace")),
    st.binary(max_size=96).map(lambda raw: raw.decode("latin-1")),
)


@settings(FUZZ, max_examples=1_200)
@given(RAW_DATA)
def test_callback_data_decodes_to_an_action_it_encodes_back_to_or_none(data: str) -> None:
    count("handlers.types.Action.decode")
    action = Action.decode(data)
    if action is None:
        return
    assert action.encode() == data
    assert len(action.encode().encode()) <= ACTION_MAX_BYTES


# --- WhatsApp numbered options and keywords -----------------------------------------------

LABELS = st.lists(
    st.one_of(
        TEXT,
        st.sampled_from(
            [
                "Oui, j’accepte",
                "Non, merci",
                "Français",
                "العربية",
                "English",
                "Soudage",
                "✅ Soudage",
                "Terminé",
                "1",
                "2 ",
                "Atlas Fonderie — Casablanca",
                "Mon entreprise n’y est pas",
            ]
        ),
    ),
    max_size=12,
)
ANSWERS = st.one_of(
    TEXT,
    st.integers(-3, 120).map(str),
    st.builds(
        lambda number, tail: f"{number}{tail}",
        st.integers(0, 15),
        st.sampled_from([".", ")", " ", " .", "..", "a"]),
    ),
    st.sampled_from(["oui", "OUI J'ACCEPTE", "soud", "terminé", "TERMINE", "fr", "٣", "١٢"]),
)


@settings(FUZZ, max_examples=900)
@given(LABELS, ANSWERS)
def test_a_numbered_answer_picks_one_shown_option_or_none(labels: list[str], text: str) -> None:
    count("bot.channels.whatsapp.options.match")
    options = [(label, Action("o", (str(index),))) for index, label in enumerate(labels)]
    picked = match(text, options)
    assert picked is None or picked in [action for _, action in options]
    number = re.fullmatch(r"\s*([0-9]{1,2})\s*[.)]?\s*", text)
    if number and options:
        index = int(number.group(1))
        expected = options[index - 1][1] if 1 <= index <= len(options) else None
        assert picked == expected


@settings(FUZZ, max_examples=700)
@given(
    st.one_of(
        TEXT,
        st.builds(
            lambda word, space, tail: f"{space}{word}{space}{tail}",
            st.sampled_from([*KEYWORDS, "STOP", "Arrêt", "ARRÊTER", "ﻗﻒ", "lier", "LINK"]),
            st.sampled_from(["", " ", "\t", "\u00a0", "\n"]),
            st.one_of(st.just(""), st.integers(0, 10**7).map(str), TEXT),
        ),
    )
)
def test_a_keyword_is_a_known_command_or_nothing(text: str) -> None:
    count("handlers.keywords.command_for")
    found = command_for(text)
    inbound = as_command(Inbound("whatsapp", "+212612345678", text=text))
    if found is None:
        assert inbound.text == storable(text) and inbound.command is None
        return
    command, argument = found
    assert command in set(KEYWORDS.values())
    # LINK's argument is digits, dashes and spaces; handlers.linking checks it is a code
    assert argument == "" or (command == "link" and re.fullmatch(r"\d[\d -]*", argument))
    assert (inbound.command, inbound.argument, inbound.text) == (command, argument, None)
