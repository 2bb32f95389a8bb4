"""The announcement a coordinator is composing, kept in their conversation state.

It lives in the contact's row (`contacts.state["announce"]`), not in memory, so a restart of
the bot or a switch of channel in the middle of `/announce` loses nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from handlers.context import Context
from storage import contacts as contacts_store
from storage.audience import Audience
from storage.contacts import Contact
from storage.zones import from_utc_text, to_utc_text

STATE_KEY = "announce"
STEPS = ("audience", "registrants", "session", "text", "translation", "time", "preview")


@dataclass(frozen=True)
class Draft:
    step: str = "audience"
    topics: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()
    registrants: str | None = None
    session: str | None = None
    texts: dict[str, str] = field(default_factory=dict)  # "*" is every other language
    translating: str | None = None  # the language whose version is being typed
    due_at: str | None = None  # UTC text; None means "now"
    urgent: bool = False  # goes out even during quiet hours

    @property
    def audience(self) -> Audience:
        return Audience(
            topics=self.topics, roles=self.roles, cities=self.cities, registrants=self.registrants
        )

    @property
    def due(self) -> datetime | None:
        return from_utc_text(self.due_at) if self.due_at else None

    def at(self, step: str, **changes: Any) -> Draft:
        return replace(self, step=step, **changes)

    def due_on(self, moment: datetime | None) -> Draft:
        return replace(self, due_at=to_utc_text(moment) if moment else None)


def _toggled(values: tuple[str, ...], value: str) -> tuple[str, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


def toggle(draft: Draft, criterion: str, value: str) -> Draft:
    """The draft with `value` added to or taken out of `criterion` (topics or roles)."""
    if criterion == "topics":
        return replace(draft, topics=_toggled(draft.topics, value))
    return replace(draft, roles=_toggled(draft.roles, value))


def load(contact: Contact) -> Draft | None:
    """The contact's draft, or None (also when the stored state is not one we wrote)."""
    raw = contact.state.get(STATE_KEY)
    if not isinstance(raw, dict) or raw.get("step") not in STEPS:
        return None
    try:
        return Draft(
            step=raw["step"],
            topics=tuple(raw.get("topics", ())),
            roles=tuple(raw.get("roles", ())),
            cities=tuple(raw.get("cities", ())),
            registrants=raw.get("registrants"),
            session=raw.get("session"),
            texts=dict(raw.get("texts", {})),
            translating=raw.get("translating"),
            due_at=raw.get("due_at"),
            urgent=raw.get("urgent") is True,
        )
    except (TypeError, ValueError):
        return None


def save(context: Context, contact: Contact, draft: Draft) -> None:
    """Store the draft beside the rest of the state (onboarding marks stay as they are)."""
    state = _fresh_state(context, contact)
    contacts_store.set_state(context.db, contact.id, {**state, STATE_KEY: asdict(draft)})


def clear(context: Context, contact: Contact) -> None:
    state = _fresh_state(context, contact)
    if STATE_KEY in state:
        contacts_store.set_state(
            context.db, contact.id, {key: value for key, value in state.items() if key != STATE_KEY}
        )


def _fresh_state(context: Context, contact: Contact) -> dict[str, Any]:
    fresh = contacts_store.get(context.db, contact.id)
    return dict(fresh.state if fresh is not None else contact.state)
