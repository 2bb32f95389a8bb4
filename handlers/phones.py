"""Phone numbers as people write them, turned into the one E.164 form the bot stores.

WhatsApp identities, contact imports and numbers typed in a conversation must all meet on the
same text (`+212612345678`), whether someone wrote `06 12 34 56 78`, `+212 6…` or `00212 6…`.
Pure: no storage, no channel; a reason comes back when a number is refused.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult

DEFAULT_REGION = "MA"

_LENGTH_REASONS = {
    ValidationResult.TOO_SHORT: "too short",
    ValidationResult.TOO_LONG: "too long",
    ValidationResult.INVALID_LENGTH: "wrong number of digits",
    ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
}


class InvalidPhone(ValueError):
    """A text that is not a usable phone number; `str()` is a short reason for a person."""


def normalize_phone(text: str, region: str = DEFAULT_REGION) -> str:
    """`text` as E.164 (`+212612345678`); numbers without a country code belong to `region`.

    A leading `00` is the international prefix most Moroccan and European users type, so it is
    read as `+`. Letters are refused rather than spelled out as digits (phonenumbers would read
    `1-800-FLOWERS`): in a contact list they are a typo, not a vanity number.
    """
    cleaned = text.strip()
    if not cleaned:
        raise InvalidPhone("no number given")
    if any(character.isalpha() for character in cleaned):
        raise InvalidPhone("contains letters")
    if cleaned.startswith("00"):
        cleaned = "+" + cleaned[2:]
    try:
        number = phonenumbers.parse(cleaned, region)
    except NumberParseException as error:
        raise InvalidPhone("not a phone number") from error
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in _LENGTH_REASONS:
        raise InvalidPhone(_LENGTH_REASONS[reason])
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone("not a number in use in its country")
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


def known_region(code: str) -> bool:
    """Whether `code` is a two-letter region phonenumbers knows (MA, FR, …), for settings."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS
