"""Phone numbers as people type them become one E.164 text, or a short reason why not."""

from __future__ import annotations

import pytest

from handlers.phones import InvalidPhone, known_region, normalize_phone


@pytest.mark.parametrize(
    "written",
    [
        "0612345678",
        "06 12 34 56 78",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "+212612345678",
        "+212 6 12 34 56 78",
        "(+212) 612345678",
        "00212612345678",
        "00 212 6 12 34 56 78",
        "212612345678",
        "  0612345678  ",
    ],
)
def test_moroccan_mobile_forms_become_one_e164_number(written: str) -> None:
    assert normalize_phone(written) == "+212612345678"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("0712345678", "+212712345678"),
        ("0522123456", "+212522123456"),
        ("+33612345678", "+33612345678"),
        ("0033612345678", "+33612345678"),
    ],
)
def test_other_numbers(written: str, expected: str) -> None:
    assert normalize_phone(written) == expected


def test_a_region_reads_local_numbers_of_that_country() -> None:
    assert normalize_phone("06 12 34 56 78", region="FR") == "+33612345678"


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("", "no number given"),
        ("   ", "no number given"),
        ("06abc", "contains letters"),
        ("0612", "too short"),
        ("061234567890123", "too long"),
        ("+", "not a phone number"),
        ("061234567", "not a number in use in its country"),
    ],
)
def test_refused_numbers_say_why(written: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as refused:
        normalize_phone(written)
    assert str(refused.value) == reason


def test_invalid_phone_is_a_value_error() -> None:
    assert issubclass(InvalidPhone, ValueError)


@pytest.mark.parametrize(("code", "known"), [("MA", True), ("fr", True), ("XX", False)])
def test_known_region(code: str, known: bool) -> None:
    assert known_region(code) is known
