"""Why a delivery was not sent, in the coordinator's language.

The outbox stores a reason as an English line for logs and the CLI ("opted out",
"blocked: …; sent on telegram instead", "… (gave up after 5 attempts)"). A coordinator
reading a report in French or Arabic gets the same line worded from the catalogue: our own
words are translated, and the composed forms are taken apart and put together again in their
language. What a platform said in its own words (Telegram's descriptions, Twilio's error
texts) stays as it came, isolated inside the sentence.
"""

from __future__ import annotations

import re

from handlers.i18n import CHANNEL_NAMES, N_, language_name, t, tn

# Every fixed reason the outbox and the channels store, as they store it.
FIXED = {
    reason: reason
    for reason in (
        N_("cancelled"),
        N_("opted out"),
        N_("blocked"),
        N_("contact erased"),
        N_("unknown"),
        N_("announcement gone"),
        N_("not a valid phone number (21211)"),
        N_("not a WhatsApp number (63003)"),
        N_("not a valid WhatsApp recipient (63024)"),
        N_("blocked by the user (63014)"),
        N_("outside the 24-hour window: only a template may be sent (63016)"),
        N_("WhatsApp rate limit reached (63018)"),
    )
}

_REROUTED = re.compile(
    r"^(?P<reason>.*); sent on (?P<channel>telegram|whatsapp|console) instead$", re.S
)
_GAVE_UP = re.compile(r"^(?P<reason>.*) \(gave up after (?P<count>\d+) attempts\)$", re.S)
_BLOCKED = re.compile(r"^blocked: (?P<reason>.*)$", re.S)
_PARTS = re.compile(r"^only (?P<sent>\d+) of (?P<total>\d+) parts sent; then (?P<reason>.*)$", re.S)
_NO_TEMPLATE = re.compile(
    r"^outside the 24-hour window and no WhatsApp template for"
    r" (?P<kind>\w+) in (?P<language>\w+)$"
)


def reason_text(language: str | None, reason: str) -> str:
    """`reason` as a coordinator reading `language` should see it."""
    if reason in FIXED:
        return t(language, FIXED[reason])
    if match := _REROUTED.match(reason):
        return t(
            language,
            "{reason}; sent on {channel} instead",
            reason=reason_text(language, match["reason"]),
            channel=t(language, CHANNEL_NAMES[match["channel"]]),
        )
    if match := _GAVE_UP.match(reason):
        count = int(match["count"])
        return tn(
            language,
            "{reason} (gave up after {count} attempt)",
            "{reason} (gave up after {count} attempts)",
            count,
            reason=reason_text(language, match["reason"]),
        )
    if match := _BLOCKED.match(reason):
        return t(language, "blocked: {reason}", reason=reason_text(language, match["reason"]))
    if match := _PARTS.match(reason):
        return t(
            language,
            "only {sent} of {total} parts sent; then {reason}",
            sent=match["sent"],
            total=match["total"],
            reason=reason_text(language, match["reason"]),
        )
    if match := _NO_TEMPLATE.match(reason):
        return t(
            language,
            "outside the 24-hour window and no WhatsApp template for “{kind}” in {language}",
            kind=match["kind"],
            language=language_name(match["language"], language),
        )
    return reason  # the platform's own words


def reason_line(language: str | None, reason: str, number: int) -> str:
    """One line of a report's reasons: how many rows, and why."""
    return t(language, "{count} × {reason}", count=number, reason=reason_text(language, reason))
