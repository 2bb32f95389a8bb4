"""`config.toml` and the environment: whatever the file holds, `load` gives a `Config` or one
`ConfigError` of one line, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.config import (
    SCHEMA,
    TELEGRAM_TOKEN_ENV,
    TELEGRAM_WEBHOOK_SECRET_ENV,
    TWILIO_SID_ENV,
    TWILIO_TOKEN_ENV,
    Config,
    ConfigError,
    load,
)
from tests.fuzz.errors import Errors
from tests.fuzz.fuzzing import FUZZ, TEXT
from tests.fuzz.tally import count

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def _toml_key(key: str) -> str:
    return json.dumps(key, ensure_ascii=False)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return {"inf": "inf", "-inf": "-inf", "nan": "nan"}.get(repr(value), repr(value))
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return (
            "{ "
            + ", ".join(
                f"{_toml_key(str(key))} = {_toml_value(item)}" for key, item in value.items()
            )
            + " }"
        )
    return json.dumps(value, ensure_ascii=False)


KNOWN_VALUES = st.sampled_from(
    [
        "fr",
        "ar",
        "xx",
        "Africa/Casablanca",
        "Africa",
        "Europe/Paris",
        "",
        "21:00-08:00",
        "24:00-08:00",
        "7d",
        "0s",
        "99999d",
        "polling",
        "webhook",
        "https://bot.example.org",
        "http://",
        "ftp://x",
        "/telegram",
        "//x",
        "whatsapp:+212522000000",
        "whatsapp:212",
        "MG0123456789abcdef0123456789abcdef",
        "HX0123456789abcdef0123456789abcdef",
        "formabot.db",
        "/nonexistent/dir/bot.db",
        "127.0.0.1",
    ]
)
SCALARS = st.one_of(
    KNOWN_VALUES,
    TEXT,
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(["fr", "ar", "en", "reminder", "x"]), TEXT), inner, max_size=3
        ),
    ),
    max_leaves=6,
)
SECTIONS = st.one_of(st.sampled_from([*SCHEMA, "whatsapp.templates.reminder"]), TEXT)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A config file: known and unknown sections, keys and values, as TOML text."""
    lines: list[str] = []
    for section in draw(st.lists(SECTIONS, max_size=4, unique=True)):
        known = [*sorted(SCHEMA.get(section, {})), "token", "auth_token", "templates"]
        keys = draw(st.lists(st.one_of(st.sampled_from(known), TEXT), max_size=4, unique=True))
        lines.append(f"[{'.'.join(_toml_key(part) for part in section.split('.'))}]")
        lines += [f"{_toml_key(key)} = {_toml_value(draw(VALUES))}" for key in keys]
    return "\n".join(lines) + "\n"


ENVIRON = st.fixed_dictionaries(
    {},
    optional={
        TELEGRAM_TOKEN_ENV: TEXT,
        TELEGRAM_WEBHOOK_SECRET_ENV: st.one_of(TEXT, st.just("s3cret")),
        TWILIO_SID_ENV: TEXT,
        TWILIO_TOKEN_ENV: TEXT,
    },
)


@pytest.fixture
def config_path(scratch: Path) -> Iterator[Path]:
    yield scratch / "config.toml"


def _load(path: Path, content: bytes, environ: dict[str, str], errors: Errors) -> Config | None:
    path.write_bytes(content)
    try:
        config = load(path, environ=environ)
    except ConfigError as error:
        message = str(error)
        assert message and "\n" not in message and "\r" not in message, message
        config = None
    finally:
        path.unlink()
    errors.check(content)
    return config


@settings(FUZZ, max_examples=400)
@given(document=documents(), environ=ENVIRON)
def test_any_config_file_loads_or_gets_one_line(
    config_path: Path, errors: Errors, document: str, environ: dict[str, str]
) -> None:
    count("bot.config.load")
    config = _load(config_path, document.encode("utf-8", "surrogatepass"), environ, errors)
    if config is not None:
        assert 1 <= config.bot.page_size <= 10
        assert config.bot.default_language in ("fr", "ar", "en")
        config.reminders.timedeltas()  # every duration kept can be read


EXAMPLE_LINES = EXAMPLE.read_text(encoding="utf-8").splitlines()


@settings(FUZZ, max_examples=200)
@given(data=st.data(), replacement=st.one_of(TEXT, documents()), raw=st.binary(max_size=120))
def test_the_example_file_with_a_line_changed_or_anything(
    config_path: Path, errors: Errors, data: st.DataObject, replacement: str, raw: bytes
) -> None:
    count("bot.config.load")
    if data.draw(st.booleans(), label="raw bytes"):
        content = raw
    else:
        lines = list(EXAMPLE_LINES)
        lines[data.draw(st.integers(0, len(lines) - 1), label="line")] = replacement
        content = "\n".join(lines).encode("utf-8", "surrogatepass")
    _load(config_path, content, {}, errors)
