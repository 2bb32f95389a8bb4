"""Pure rules: the 24-hour window, numbers in the forms people write, option matching,
message splitting, status meanings, and the [whatsapp] configuration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.channels.whatsapp.inbound import sender_number
from bot.channels.whatsapp.options import match
from bot.channels.whatsapp.render import split_body
from bot.channels.whatsapp.window import FreeForm, Skip, Template, choose_form
from bot.config import ConfigError, load
from handlers.phones import normalize_phone
from handlers.types import Action
from storage.whatsapp_status import interpret

NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
HX = "HX" + "ab" * 16
TEMPLATES = {"reminder": {"fr": HX}}


@pytest.mark.parametrize(
    ("last", "kind", "language", "expected"),
    [
        (timedelta(hours=1), "announcement", "fr", FreeForm()),
        (timedelta(hours=23, minutes=50), "announcement", "fr", FreeForm()),
        (timedelta(hours=23, minutes=58), "reminder", "fr", Template(HX)),  # within the margin
        (timedelta(hours=25), "reminder", "fr", Template(HX)),
        (None, "reminder", "fr", Template(HX)),
        (
            timedelta(hours=25),
            "reminder",
            "ar",
            Skip("outside the 24-hour window and no WhatsApp template for reminder in ar"),
        ),
        (
            timedelta(days=9),
            "announcement",
            "fr",
            Skip("outside the 24-hour window and no WhatsApp template for announcement in fr"),
        ),
    ],
)
def test_the_window_decides_the_form(
    last: timedelta | None, kind: str, language: str, expected: object
) -> None:
    last_inbound = NOW - last if last is not None else None
    assert choose_form(kind, language, last_inbound, NOW, TEMPLATES) == expected


@pytest.mark.parametrize(
    "written",
    ["0612345678", "06 12 34 56 78", "+212612345678", "00212612345678", "+212 6 12 34 56 78"],
)
def test_numbers_in_the_four_forms(written: str) -> None:
    assert normalize_phone(written) == "+212612345678"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("whatsapp:+212612345678", "+212612345678"),
        ("whatsapp:+212712345678", "+212712345678"),
        ("+212612345678", None),
        ("whatsapp:hello", None),
        ("", None),
    ],
)
def test_the_sender_number_comes_from_twilios_from(raw: str, expected: str | None) -> None:
    assert sender_number({"From": raw}) == expected


OPTIONS = [
    ("Oui, j’accepte", Action("consent", ("yes",))),
    ("Non, merci", Action("consent", ("no",))),
    ("Atlas Fonderie — Casablanca", Action("co", ("1",))),
    ("Atlas Mécanique — Tanger", Action("co", ("2",))),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", Action("consent", ("yes",))),
        (" 2. ", Action("consent", ("no",))),
        ("5", None),
        ("0", None),
        ("oui j'accepte", Action("consent", ("yes",))),
        ("NON", Action("consent", ("no",))),
        ("mecanique", Action("co", ("2",))),
        ("atlas", None),
        ("tanger", Action("co", ("2",))),
        ("x", None),
        ("bonjour", None),
    ],
)
def test_an_option_by_number_or_words(text: str, expected: Action | None) -> None:
    assert match(text, OPTIONS) == expected


def test_splitting_keeps_words_whole() -> None:
    text = ("mot " * 1000).strip()
    pieces = split_body(text, 100)
    assert all(len(piece) <= 100 for piece in pieces)
    assert " ".join(pieces) == text


@pytest.mark.parametrize(
    ("status", "code", "delivery", "inactive", "requeue"),
    [
        ("delivered", None, "delivered", False, False),
        ("read", None, "read", False, False),
        ("sent", None, None, False, False),
        ("queued", None, None, False, False),
        ("failed", 63016, "failed", False, False),
        ("undelivered", 63003, "failed", True, False),
        ("undelivered", 63024, "failed", True, False),
        ("failed", 63014, "failed", True, False),
        ("failed", 63018, None, False, True),
        ("failed", 30008, "failed", False, False),
    ],
)
def test_what_a_status_callback_means(
    status: str, code: int | None, delivery: str | None, inactive: bool, requeue: bool
) -> None:
    effect = interpret(status, code)
    assert (effect.delivery, bool(effect.inactive), effect.requeue) == (delivery, inactive, requeue)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_whatsapp_settings_and_templates(tmp_path: Path) -> None:
    config = load(
        write(
            tmp_path,
            f"""
[whatsapp]
from = "whatsapp:+212522000000"
public_url = "https://bot.example.org"
media_base_url = "https://bot.example.org/whatsapp/media"
timeout_seconds = 5
[whatsapp.templates.reminder]
fr = "{HX}"
ar = "{HX}"
""",
        ),
        environ={"FORMABOT_TWILIO_ACCOUNT_SID": "AC1", "FORMABOT_TWILIO_AUTH_TOKEN": "t"},
    )
    assert config.whatsapp.from_ == "whatsapp:+212522000000"
    assert config.whatsapp.templates == {"reminder": {"fr": HX, "ar": HX}}
    assert config.whatsapp.rate_limit_per_second == 80
    assert config.whatsapp.enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[whatsapp]\nfrom = "+212522000000"\n', "[whatsapp] from = '+212522000000': expected a"),
        ('[whatsapp]\nmessaging_service_sid = "MG12"\n', "expected a Messaging Service SID"),
        ('[whatsapp]\npublic_url = "bot.example.org"\n', "[whatsapp] public_url = 'bot.example"),
        (
            '[whatsapp.templates.reminder]\nfr = "HX12"\n',
            "[whatsapp.templates.reminder] fr = 'HX12': expected a Content SID",
        ),
        (
            f'[whatsapp.templates.remind]\nfr = "{HX}"\n',
            "[whatsapp.templates.remind]: unknown notification kind",
        ),
        (
            f'[whatsapp.templates.reminder]\nde = "{HX}"\n',
            "[whatsapp.templates.reminder] de: unknown language",
        ),
        ('[whatsapp]\nauth_token = "x"\n', "secrets are not read from the file"),
        ('[whatsapp]\nsender = "x"\n', "[whatsapp] sender: unknown key"),
    ],
)
def test_whatsapp_config_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(write(tmp_path, text), environ={})
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
