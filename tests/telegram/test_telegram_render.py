"""Rendering rules, without a network: escaping, the 4,096 limit, keyboards."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.channels.telegram.render import (
    MESSAGE_LIMIT,
    inline_keyboard,
    phone_keyboard,
    split_message,
    telegram_length,
)
from handlers import Action, Choice


def words_of(text: str) -> list[str]:
    return text.split()


def test_short_text_is_one_escaped_message() -> None:
    assert split_message('Bonjour <b>&"') == ["Bonjour &lt;b&gt;&amp;&quot;"]


def test_empty_text_is_no_message() -> None:
    assert split_message("  \n ") == []


def test_5000_characters_split_at_a_paragraph() -> None:
    first, second = "a" * 2500, "b" * 2499
    assert split_message(f"{first}\n\n{second}") == [first, second]


def test_paragraphs_are_packed_as_many_as_fit() -> None:
    paragraphs = [f"Paragraphe {n}. " + "x" * 980 for n in range(5)]
    chunks = split_message("\n\n".join(paragraphs))
    assert len(chunks) == 2
    assert chunks[0] == "\n\n".join(paragraphs[:4])
    assert chunks[1] == paragraphs[4]


def test_a_long_paragraph_is_split_between_lines_then_words() -> None:
    lines = "\n".join(f"ligne {n} " + "y" * 90 for n in range(50))  # one 5,000-char paragraph
    chunks = split_message(lines)
    assert all(chunk.startswith("ligne ") for chunk in chunks)
    assert "\n".join(chunks) == lines
    words = " ".join(f"mot{n}" for n in range(700))  # one 4,789-character line
    chunks = split_message(words)
    assert len(chunks) == 2
    assert " ".join(chunks) == words


def test_escaped_length_is_what_counts() -> None:
    text = "R&D " * 800  # 3,200 characters, 6,400 once escaped
    chunks = split_message(text)
    assert len(chunks) == 2
    assert all(telegram_length(chunk) <= MESSAGE_LIMIT for chunk in chunks)
    assert all(chunk.endswith("R&amp;D") for chunk in chunks)  # cut between words


def test_a_cut_never_falls_inside_an_entity() -> None:
    text = "&" * 5000  # one "word": cut by characters, each costing 5
    chunks = split_message(text)
    assert [len(html.unescape(chunk)) for chunk in chunks] == [819, 819, 819, 819, 819, 819, 86]
    assert all(chunk == "&amp;" * (len(chunk) // 5) for chunk in chunks)


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    chunks = split_message("🔧" * 3000)
    assert [telegram_length(chunk) for chunk in chunks] == [4096, 1904]


@given(st.text(alphabet=st.sampled_from('ab &<>"\n🔧é'), max_size=12_000))
def test_any_text_splits_into_valid_messages_that_keep_every_word(text: str) -> None:
    chunks = split_message(text, limit=500)
    assert all(0 < telegram_length(chunk) <= 500 for chunk in chunks)
    assert all(html.escape(html.unescape(chunk)) == chunk for chunk in chunks)
    assert "".join(words_of(html.unescape("\n".join(chunks)))) == "".join(words_of(text))


def test_choices_are_one_button_per_row() -> None:
    keyboard = inline_keyboard(
        [
            Choice("Sessions à venir", Action("ss", ("0",))),
            Choice("Menu", Action("menu")),
        ]
    )
    assert keyboard is not None
    assert [[button.text for button in row] for row in keyboard.inline_keyboard] == [
        ["Sessions à venir"],
        ["Menu"],
    ]
    assert keyboard.inline_keyboard[0][0].callback_data == "ss:0"


def test_no_choices_no_keyboard() -> None:
    assert inline_keyboard([]) is None


def test_button_data_over_64_bytes_is_refused_before_telegram_sees_it() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        inline_keyboard([Choice("x", Action("s", ("a" * 40, "b" * 30)))])


def test_phone_keyboard_requests_the_contact_once() -> None:
    keyboard = phone_keyboard("Partager mon numéro")
    assert keyboard.keyboard[0][0].request_contact
    assert keyboard.one_time_keyboard and keyboard.resize_keyboard
