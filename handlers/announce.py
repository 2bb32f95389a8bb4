"""`/announce`: a coordinator composes an announcement on their phone, sees it, and confirms.

audience (→ a session's registrants) → session → text (→ other languages) → time → preview.
Each step is written to the draft in the contact's state (`announce_draft`), so a restart
or a switch of channel loses nothing. Nothing is created before Confirm, and Confirm calls
the library function `formabot announce` calls (`storage.broadcasts.publish`); an announcement
for "now" is released by the running bot's scheduler, off the conversation's event loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from handlers import views
from handlers.announce_draft import Draft, clear, load, save, toggle
from handlers.announce_steps import held_until, view
from handlers.context import Context
from handlers.i18n import LANGUAGES, format_when, t
from handlers.types import Reply
from storage import audit, broadcasts, catalogue, companies
from storage.audience import pages
from storage.contacts import ROLES, Contact
from storage.zones import parse_local

# WhatsApp carries at most 1,600 characters in a message, and a session's card is added.
TEXT_MAX = 1_500
CITIES_MAX = 10
_CITY_SEPARATORS = re.compile(r"[,;،\n]+")

Step = Callable[[Context, Contact, Draft, str, str], list[Reply]]


# --- entry points (called by coordinator_router once the person is known to coordinate) ----


def start(context: Context, contact: Contact, actor: str) -> list[Reply]:
    """A new draft (one at a time: `/announce` again starts over)."""
    draft = Draft()
    save(context, contact, draft)
    audit.record(context.db, actor=actor, action="announcement.draft_started")
    return view(context, contact, draft)


def cancel(context: Context, contact: Contact, actor: str) -> list[Reply]:
    """`/cancel` or the Cancel button, at any step: the draft goes, nothing is created."""
    if load(contact) is not None:
        clear(context, contact)
        audit.record(context.db, actor=actor, action="announcement.draft_cancelled")
    return [views.menu(contact, t(contact.language, "Announcement cancelled: nothing was sent."))]


def press(context: Context, contact: Contact, name: str, arg: str, actor: str) -> list[Reply]:
    """A button of the flow. One pressed out of its step (an older message) has expired."""
    if name == "an_cancel":
        return cancel(context, contact, actor)
    draft = load(contact)
    if draft is None:
        return [views.menu(contact, t(contact.language, "This button has expired."))]
    steps, step = _BUTTONS[name]
    if draft.step not in steps:
        return view(context, contact, draft, lead=t(contact.language, "This button has expired."))
    return step(context, contact, draft, arg, actor)


def answer(context: Context, contact: Contact, text: str) -> list[Reply]:
    """Typed text, read by the step it answers: cities, a session id, the message, a time."""
    draft = load(contact)
    if draft is None:
        return [views.menu(contact)]
    typed = text.strip()
    if draft.step == "audience":
        return _take_cities(context, contact, draft, typed)
    if draft.step in ("registrants", "session"):
        return _take_session_id(context, contact, draft, typed)
    if draft.step in ("text", "translation"):
        return _take_text(context, contact, draft, text)
    if draft.step == "time":
        return _take_time(context, contact, draft, typed)
    return view(context, contact, draft, lead=t(contact.language, "Please use the buttons below."))


# --- buttons -----------------------------------------------------------------------------


def _go(step: str, **changes: object) -> Step:
    def move(context: Context, contact: Contact, draft: Draft, arg: str, actor: str) -> list[Reply]:
        draft = draft.at(step, **changes)
        save(context, contact, draft)
        return view(context, contact, draft, replaces_menu=True)

    return move


def _toggle(criterion: str) -> Step:
    def flip(
        context: Context, contact: Contact, draft: Draft, value: str, actor: str
    ) -> list[Reply]:
        known = (
            catalogue.topic(context.db, value) is not None
            if criterion == "topics"
            else value in ROLES
        )
        if not known:
            return view(
                context, contact, draft, lead=t(contact.language, "This button has expired.")
            )
        return _go("audience")(context, contact, toggle(draft, criterion, value), value, actor)

    return flip


def _pick_session(step_after: str, field: str) -> Step:
    def pick(
        context: Context, contact: Contact, draft: Draft, session_id: str, actor: str
    ) -> list[Reply]:
        if catalogue.session(context.db, session_id) is None:
            return view(
                context, contact, draft, lead=t(contact.language, "This session no longer exists.")
            )
        return _go(step_after, **{field: session_id})(context, contact, draft, session_id, actor)

    return pick


def _add_version(
    context: Context, contact: Contact, draft: Draft, language: str, actor: str
) -> list[Reply]:
    if language not in LANGUAGES:
        return view(context, contact, draft, lead=t(contact.language, "This button has expired."))
    return _go("translation", translating=language)(context, contact, draft, language, actor)


def _next(context: Context, contact: Contact, draft: Draft, arg: str, actor: str) -> list[Reply]:
    """From the audience to the session; from the text (once there is one) to the time."""
    if draft.step == "audience":
        return _go("session")(context, contact, draft, arg, actor)
    if "*" not in draft.texts:
        return view(context, contact, draft)
    return _go("time")(context, contact, draft, arg, actor)


def _now(context: Context, contact: Contact, draft: Draft, arg: str, actor: str) -> list[Reply]:
    draft = draft.due_on(None).at("preview")
    save(context, contact, draft)
    return view(context, contact, draft)


def _urgent(context: Context, contact: Contact, draft: Draft, arg: str, actor: str) -> list[Reply]:
    """Urgent or not: an urgent announcement goes out even during quiet hours."""
    draft = replace(draft, urgent=not draft.urgent)
    save(context, contact, draft)
    return view(context, contact, draft, replaces_menu=True)


def _confirm(context: Context, contact: Contact, draft: Draft, arg: str, actor: str) -> list[Reply]:
    """Create it — unless the time has passed or the session has gone while they looked."""
    language = contact.language
    now = context.now()
    if draft.due is not None and draft.due <= now:
        return _back_to_time(
            context,
            contact,
            draft,
            t(
                language,
                "{when} has passed meanwhile. Please type a new time, or tap \u201cNow\u201d.",
                when=format_when(draft.due, context.zone, language),
            ),
        )
    if draft.session and catalogue.session(context.db, draft.session) is None:
        draft = draft.at("session", session=None)
        save(context, contact, draft)
        return view(context, contact, draft, lead=t(language, "This session no longer exists."))
    if (
        next(pages(context.db, draft.audience, channels=context.channels, page_size=1), None)
        is None
    ):
        return view(context, contact, draft)  # no one any more: the preview says so
    # "Now" is left to the running bot's scheduler, which writes the delivery rows in a
    # worker thread within a second: written here, on the bot's event loop, a large
    # audience would hold up every other conversation until the last row.
    published = broadcasts.publish(
        context.db,
        texts=draft.texts,
        audience=draft.audience,
        due_at=draft.due or now,
        created_by=actor,
        now=now,
        session_id=draft.session,
        default_language=context.default_language,
        channels=context.channels,
        release_now=False,
        urgent=draft.urgent,
    )
    clear(context, contact)
    number = published.announcement_id
    held = held_until(context, draft)
    if held is not None:
        text = t(
            language,
            "Announcement #{id} will go out on {when}, when quiet hours end."
            " Recipients as of now: {count}.",
            id=number,
            count=published.recipients,
            when=format_when(held, context.zone, language),
        )
    elif draft.due is None:
        text = t(
            language,
            "Announcement #{id} is going out now. Recipients: {count}.",
            id=number,
            count=published.recipients,
        )
    else:
        text = t(
            language,
            "Announcement #{id} is scheduled for {when}. Recipients as of now: {count}.",
            id=number,
            count=published.recipients,
            when=format_when(draft.due or now, context.zone, language),
        )
    return [
        Reply(
            text,
            (
                views.choice(contact, "Delivery report", "rp", str(number)),
                views.choice(contact, "Scheduled announcements", "sc_list"),
                views.back_to_menu(contact),
            ),
            language=views.lang(contact),
        )
    ]


_ALL_STEPS = ("audience", "registrants", "session", "text", "translation", "time", "preview")
_BUTTONS: dict[str, tuple[tuple[str, ...], Step]] = {
    "an_tp": (("audience",), _toggle("topics")),
    "an_role": (("audience",), _toggle("roles")),
    "an_nocity": (("audience",), _go("audience", cities=())),
    "an_regs": (("audience",), _go("registrants")),
    "an_reg": (("registrants",), _pick_session("audience", "registrants")),
    "an_noreg": (("registrants",), _go("audience", registrants=None)),
    "an_aud": (_ALL_STEPS, _go("audience")),
    "an_next": (("audience", "text"), _next),
    "an_ses": (("session",), _pick_session("text", "session")),
    "an_noses": (("session",), _go("text", session=None)),
    "an_lang": (("text",), _add_version),
    "an_txt": (("translation", "time", "preview"), _go("text", translating=None)),
    "an_now": (("time",), _now),
    "an_ok": (("preview",), _confirm),
    "an_urg": (("preview",), _urgent),
}
ACTIONS = frozenset({*_BUTTONS, "an_cancel"})


# --- typed answers -----------------------------------------------------------------------


def _take_cities(context: Context, contact: Contact, draft: Draft, typed: str) -> list[Reply]:
    known = {city.casefold(): city for city in companies.cities(context.db)}
    asked = list(
        dict.fromkeys(part.strip() for part in _CITY_SEPARATORS.split(typed) if part.strip())
    )[:CITIES_MAX]
    found = tuple(
        dict.fromkeys(known[name.casefold()] for name in asked if name.casefold() in known)
    )
    unknown = [name for name in asked if name.casefold() not in known]
    lead = None
    if unknown:
        lead = t(
            contact.language,
            "No member company is in: {cities}. Check the spelling.",
            cities=", ".join(unknown),
        )
    if found:
        draft = draft.at("audience", cities=found)
        save(context, contact, draft)
    elif not unknown:
        lead = t(contact.language, "Please use the buttons below.")
    return view(context, contact, draft, lead=lead)


def _take_session_id(context: Context, contact: Contact, draft: Draft, typed: str) -> list[Reply]:
    session_id = typed.lower()
    if catalogue.session(context.db, session_id) is None:
        return view(
            context,
            contact,
            draft,
            lead=t(contact.language, "There is no session \u201c{id}\u201d.", id=typed[:40]),
        )
    if draft.step == "registrants":
        draft = draft.at("audience", registrants=session_id)
    else:
        draft = draft.at("text", session=session_id)
    save(context, contact, draft)
    return view(context, contact, draft)


def _take_text(context: Context, contact: Contact, draft: Draft, text: str) -> list[Reply]:
    message = text.strip()
    if not message:
        return view(
            context, contact, draft, lead=t(contact.language, "Please send the message as text.")
        )
    if len(message) > TEXT_MAX:
        return view(
            context,
            contact,
            draft,
            lead=t(
                contact.language,
                "That is too long: {length} characters. Please keep it under"
                " {max} (WhatsApp's limit, with the session's details).",
                length=len(message),
                max=TEXT_MAX,
            ),
        )
    key = draft.translating if draft.step == "translation" and draft.translating else "*"
    draft = draft.at("text", texts={**draft.texts, key: message}, translating=None)
    save(context, contact, draft)
    return view(context, contact, draft)


def _back_to_time(context: Context, contact: Contact, draft: Draft, lead: str) -> list[Reply]:
    draft = draft.at("time").due_on(None)
    save(context, contact, draft)
    return view(context, contact, draft, lead=lead)


def _take_time(context: Context, contact: Contact, draft: Draft, typed: str) -> list[Reply]:
    language = contact.language
    try:
        due = parse_local(typed, context.timezone)
    except ValueError:
        return view(
            context,
            contact,
            draft,
            lead=t(
                language,
                "I could not read \u201c{text}\u201d as a date and time. Please type it"
                " like this: 2026-12-09 09:00, or tap \u201cNow\u201d.",
                text=typed[:40],
            ),
        )
    if due <= context.now():
        return view(
            context,
            contact,
            draft,
            lead=t(
                language,
                "{when} has already passed. Please type a time to come, or tap \u201cNow\u201d.",
                when=format_when(due, context.zone, language),
            ),
        )
    draft = draft.due_on(due).at("preview")
    save(context, contact, draft)
    return view(context, contact, draft)
