"""The commands a person can type, with their descriptions for channel menus."""

from __future__ import annotations

from handlers.i18n import N_, t

PUBLIC_COMMANDS = (
    ("start", N_("Start or resume")),
    ("menu", N_("Main menu")),
    ("sessions", N_("Upcoming training sessions")),
    ("my", N_("My sessions")),
    ("topics", N_("Topics I follow")),
    ("language", N_("Change language")),
    ("help", N_("Help")),
    ("stop", N_("Stop all notifications")),
    ("forget", N_("Erase my personal data")),
)


def public_commands(language: str) -> list[tuple[str, str]]:
    """(command, description) pairs in `language`, for Telegram's setMyCommands and help."""
    return [(command, t(language, description)) for command, description in PUBLIC_COMMANDS]
