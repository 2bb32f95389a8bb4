"""The three catalogues are complete, keep their placeholders, and follow each language's
typographic rules (what can be checked mechanically: the rest is a translator's review)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po

from bot.cli.i18n import extracted_messages, missing_translations
from handlers.i18n import FSI, LANGUAGES, PDI, catalogue_path, language_name, t, tn

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = re.compile(r"{(\w*)}")
# FIELD.md: Arabic has six plural forms, chosen by this rule.
ARABIC_PLURAL = "(n == 0 ? 0 : n == 1 ? 1 : n == 2 ? 2 : n % 100 >= 3 && n % 100 <= 10 ? 3"


def _catalogue(language: str) -> Catalog:
    with catalogue_path(language).open("rb") as handle:
        return read_po(handle, locale=language)


def _translated(language: str) -> list[tuple[Message, str]]:
    """Every (message, one of its translated forms) of a catalogue."""
    return [
        (message, form)
        for message in _catalogue(language)
        if message.id
        for form in (message.string if isinstance(message.string, tuple) else (message.string,))
        if form
    ]


def _source(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[1]


def test_messages_are_found_in_the_code() -> None:
    messages = extracted_messages(ROOT)
    assert "What would you like to do?" in messages
    assert "registered" in messages  # marked with N_ and translated later
    assert ("…and {count} more.", "…and {count} more.") in messages  # a plural, with tn


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    assert missing_translations(ROOT).get(language, []) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_their_placeholders(language: str) -> None:
    """A plural form may leave out `{count}` ("وإعلان آخر" says one without the digit)."""
    broken = []
    for message, form in _translated(language):
        expected, found = set(PLACEHOLDER.findall(_source(message))), set(PLACEHOLDER.findall(form))
        if isinstance(message.id, tuple):
            expected.discard("count")
            found.discard("count")
        if expected != found:
            broken.append((message.id, form))
    assert broken == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_every_form_of_the_language(language: str) -> None:
    catalog = _catalogue(language)
    incomplete = [
        message.id
        for message in catalog
        if isinstance(message.id, tuple)
        and (not isinstance(message.string, tuple) or len(message.string) != catalog.num_plurals)
    ]
    assert incomplete == []


def test_arabic_has_six_plural_forms() -> None:
    catalog = _catalogue("ar")
    assert catalog.num_plurals == 6
    assert catalog.plural_expr.startswith(ARABIC_PLURAL)


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "…وإعلان آخر."),
        (2, "…وإعلانان آخران."),
        (3, "…و\u20683\u2069 إعلانات أخرى."),
        (11, "…و\u206811\u2069 إعلانًا آخر."),
    ],
)
def test_arabic_counts_take_their_own_form(count: int, expected: str) -> None:
    assert tn("ar", "…and {count} more.", "…and {count} more.", count) == expected.replace(
        "\u2068", ""
    ).replace("\u2069", "")


def test_french_uses_one_apostrophe_and_french_quotes() -> None:
    wrong = [
        form
        for _message, form in _translated("fr")
        if "'" in form or '"' in form or "“" in form or "”" in form
    ]
    assert wrong == []


def test_french_puts_a_no_break_space_before_double_punctuation() -> None:
    """« Menu : » with U+00A0 (or U+202F); a plain space or none is wrong; «{placeholder}:»
    and times such as 10:00 are not punctuation."""
    wrong = [
        form
        for _message, form in _translated("fr")
        if re.search(r"(?<![\u00a0\u202f])[:;!?](?=\s|$)", form.replace("«\u00a0", "«"))
        or re.search(r"«(?!\u00a0)|(?<!\u00a0)»", form)
    ]
    assert wrong == []


def test_arabic_uses_arabic_punctuation_and_quotes() -> None:
    wrong = [form for _message, form in _translated("ar") if re.search(r"[,;?\"“”]", form)]
    assert wrong == []


def test_arabic_says_company_one_way() -> None:
    """مقاولة (the Moroccan word for an enterprise), never شركة."""
    assert [form for _message, form in _translated("ar") if "شرك" in form] == []


def test_arabic_isolates_every_interpolated_text() -> None:
    text = t("ar", "Welcome back, {name}.", name="Amina Alaoui")
    assert f"{FSI}Amina Alaoui{PDI}" in text
    assert FSI not in t("fr", "Welcome back, {name}.", name="Amina Alaoui")


@pytest.mark.parametrize(
    ("language", "expected"), [("fr", "arabe"), ("ar", "العربية"), ("en", "Arabic")]
)
def test_language_names_in_sentences_are_translated(language: str, expected: str) -> None:
    assert language_name("ar", language) == expected


def test_lookup_falls_back_to_french_for_an_unknown_language() -> None:
    assert t("xx", "Menu") == t("fr", "Menu")
