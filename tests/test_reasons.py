"""A report's reasons read in the coordinator's language: our own words translated, the
composed forms rebuilt, the platform's words kept as they came."""

from __future__ import annotations

import pytest

from bot.channels.whatsapp import messages as whatsapp_messages
from handlers.i18n import t
from handlers.reasons import FIXED, reason_line, reason_text
from storage import whatsapp_status

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("stored", "french"),
    [
        ("opted out", "notifications arrêtées par la personne"),
        ("cancelled", "annulée"),
        (
            "blocked: Forbidden: bot was blocked by the user; sent on whatsapp instead",
            f"bloqué{NBSP}: Forbidden: bot was blocked by the user{NBSP}; envoyé sur WhatsApp à la"
            " place",
        ),
        (
            "502 Bad Gateway (gave up after 5 attempts)",
            "502 Bad Gateway (abandon après 5 tentatives)",
        ),
        (
            "outside the 24-hour window and no WhatsApp template for reminder in ar",
            f"hors de la fenêtre de 24{NBSP}heures et aucun modèle WhatsApp pour"
            f" «{NBSP}reminder{NBSP}» en arabe",
        ),
        (
            "only 1 of 3 parts sent; then blocked by the user (63014)",
            f"parties envoyées{NBSP}: 1 sur 3{NBSP}; puis bloqué par la personne (63014)",
        ),
    ],
)
def test_a_stored_reason_reads_in_french(stored: str, french: str) -> None:
    assert reason_text("fr", stored) == french


def test_an_arabic_report_line_uses_arabic_plural_and_punctuation() -> None:
    line = reason_line("ar", "blocked (gave up after 2 attempts)", 3)
    assert "محاولتين" in line and "القناة محظورة" in line
    assert reason_text("ar", "opted out; sent on telegram instead").endswith("بدلًا من ذلك")
    assert "؛" in reason_text("ar", "opted out; sent on telegram instead")


def test_the_platforms_own_words_are_kept() -> None:
    assert reason_text("fr", "Bad Request: chat not found") == "Bad Request: chat not found"


def test_every_fixed_reason_the_channels_store_has_a_translation() -> None:
    stored = {*whatsapp_messages._BLOCKED.values(), *whatsapp_status._REASONS.values()}
    assert stored <= set(FIXED)
    for reason in FIXED:
        assert t("fr", reason) != reason or reason == "Console"
        assert t("ar", reason) != reason
