"""The commands a person can type, with their descriptions for channel menus."""

from __future__ import annotations

from handlers.i18n import N_, t

PUBLIC_COMMANDS = (
    ("start", N_("Start or resume")),
    ("menu", N_("Main menu")),
    ("sessions", N_("Upcoming training sessions")),
    ("my", N_("My sessions")),
    ("topics", N_("Topics I follow")),
    ("link", N_("Link my Telegram and WhatsApp")),
    ("language", N_("Change language")),
    ("help", N_("Help")),
    ("stop", N_("Stop all notifications")),
    ("forget", N_("Erase my personal data")),
)


def public_commands(language: str) -> list[tuple[str, str]]:
    """(command, description) pairs in `language`, for Telegram's setMyCommands and help."""
    return [(command, t(language, description)) for command, description in PUBLIC_COMMANDS]


COORDINATOR_COMMANDS = (
    ("announce", N_("New announcement")),
    ("scheduled", N_("Scheduled announcements")),
    ("report", N_("Delivery report of an announcement")),
    ("roster", N_("Roster of a session (CSV)")),
)


def coordinator_commands(language: str) -> list[tuple[str, str]]:
    """The coordinators' commands in `language`: their menu shows these after the public ones."""
    return [(command, t(language, description)) for command, description in COORDINATOR_COMMANDS]
