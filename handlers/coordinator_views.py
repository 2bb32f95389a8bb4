"""How the coordinators' tools describe things: an audience, recipient counts, an excerpt.

Shared by `/announce`, `/scheduled` and `/report`, so an audience reads the same everywhere.
"""

from __future__ import annotations

from handlers.context import Context
from handlers.i18n import CHANNEL_NAMES, t
from handlers.sessions import title_of
from handlers.topics import topic_name
from storage import catalogue
from storage.audience import DEFAULT_CHANNELS, Audience

ROLE_LABELS = {"manager": "Manager", "trainee": "Trainee"}  # msgids of onboarding's buttons
EXCERPT = 60


def audience(context: Context, language: str | None, chosen: Audience) -> str:
    """`Topics: Soudage; Roles: Manager` — or "everyone" when nothing narrows it."""
    parts = []
    if chosen.topics:
        names = [
            topic_name(topic, language) if (topic := catalogue.topic(context.db, slug)) else slug
            for slug in chosen.topics
        ]
        parts.append(t(language, "Topics: {names}", names=", ".join(names)))
    if chosen.roles:
        names = [t(language, ROLE_LABELS.get(role, role)) for role in chosen.roles]
        parts.append(t(language, "Roles: {names}", names=", ".join(names)))
    if chosen.cities:
        parts.append(t(language, "Cities: {names}", names=", ".join(chosen.cities)))
    if chosen.companies:
        parts.append(t(language, "Companies: {names}", names=", ".join(chosen.companies)))
    if chosen.registrants:
        parts.append(
            t(
                language,
                "Registrants of: {session}",
                session=session_title(context, language, chosen.registrants),
            )
        )
    if chosen.contacts:
        parts.append(t(language, "Named contacts: {count}", count=len(chosen.contacts)))
    return "; ".join(parts) or t(language, "everyone who accepts notifications")


def session_title(context: Context, language: str | None, session_id: str) -> str:
    session = catalogue.session(context.db, session_id)
    return title_of(session, language) if session is not None else session_id


def per_channel(counts: dict[str, int], language: str | None) -> str:
    """`Telegram 3, WhatsApp 0`: every channel named, so a zero is seen, not guessed."""
    channels = [*DEFAULT_CHANNELS, *(name for name in counts if name not in DEFAULT_CHANNELS)]
    return t(language, ", ").join(
        t(
            language,
            "{channel} {count}",
            channel=t(language, CHANNEL_NAMES.get(name, name)),
            count=counts.get(name, 0),
        )
        for name in channels
    )


def excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"
