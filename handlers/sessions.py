"""Browsing sessions, a session's card, and registering for it."""

from __future__ import annotations

from handlers import views
from handlers.calendar import session_ics
from handlers.context import Context
from handlers.i18n import N_, format_span, t
from handlers.topics import topic_name
from handlers.types import Action, Choice, Reply
from storage import catalogue, outbox, registrations, subscriptions
from storage.catalogue import Session
from storage.contacts import Contact

STATUS_LABELS = {
    "interested": N_("interested"),
    "registered": N_("registered"),
    "waitlisted": N_("on the waiting list"),
    "confirmed": N_("confirmed"),
    "declined": N_("declined"),
    "cancelled": N_("cancelled"),
    "attended": N_("attended"),
    "no_show": N_("absent"),
}


def title_of(session: Session, language: str | None) -> str:
    titles = session.titles
    return titles.get(language or "fr") or titles.get("fr") or titles.get("en") or session.id


def browse(
    context: Context,
    contact: Contact,
    offset: int = 0,
    *,
    replaces_menu: bool = False,
    every_topic: bool = False,
) -> list[Reply]:
    """Upcoming sessions on the contact's topics (all when none, or when asked), a page at a
    time. Lines are bulleted and buttons carry the bare title: WhatsApp numbers the options
    itself, so a number of ours would read "1. 1. Soudage" and mean another thing on page 2."""
    offset = max(offset, 0)
    followed = [] if every_topic else subscriptions.topics_of(context.db, contact.id)
    page = catalogue.upcoming_sessions(
        context.db,
        after=context.now(),
        topics=followed or None,
        offset=offset,
        limit=context.page_size + 1,
    )
    more, page = len(page) > context.page_size, page[: context.page_size]
    everything = views.choice(contact, "All upcoming sessions", "sa", "0")
    if not page:
        text = (
            N_("No more sessions.")
            if offset
            else N_("No upcoming session on your topics for now.")
            if followed
            else N_("No upcoming session for now.")
        )
        if followed:
            return [views.say(contact, text, everything, views.back_to_menu(contact))]
        return [views.menu(contact, t(contact.language, text))]
    heading = N_("Upcoming sessions on your topics:") if followed else N_("Upcoming sessions:")
    lines = [t(contact.language, heading)]
    choices: list[Choice] = []
    for session in page:
        title = title_of(session, contact.language)
        when = format_span(session.starts_at, session.ends_at, context.zone, contact.language)
        lines.append(f"• {title} — {when}")
        choices.append(Choice(title, Action("s", (session.id,))))
    if more:
        next_offset = str(offset + context.page_size)
        choices.append(
            views.choice(contact, "More sessions", "sa" if every_topic else "ss", next_offset)
        )
    if followed:
        choices.append(everything)
    choices.append(views.back_to_menu(contact))
    return [
        Reply(
            "\n".join(lines),
            tuple(choices),
            replaces_menu=replaces_menu,
            language=views.lang(contact),
        )
    ]


def when_line(context: Context, session: Session, language: str | None) -> str | None:
    """What a person must know before anything else: the session was cancelled, is under
    way, or is over. None for a session still to come."""
    if session.status == "cancelled":
        return t(language, "This session has been cancelled.")
    if session.ends_at <= context.now():
        return t(language, "This session has already taken place.")
    if session.starts_at <= context.now():
        return t(language, "This session has already started: registration is closed.")
    return None


def card(
    context: Context, contact: Contact, session_id: str, *, lead: str | None = None
) -> list[Reply]:
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    language = contact.language
    taken = registrations.seats_taken(context.db, session.id)
    left = max(session.capacity - taken, 0)
    lines = [lead] if lead else []
    lines += [
        title_of(session, language),
        format_span(session.starts_at, session.ends_at, context.zone, language),
    ]
    if session.place:
        lines.append(t(language, "Place: {place}", place=session.place))
    topic_names = [
        topic_name(topic, language)
        for slug in session.topics
        if (topic := catalogue.topic(context.db, slug)) is not None
    ]
    if topic_names:
        lines.append(t(language, "Topics: {topics}", topics=", ".join(topic_names)))
    mine = registrations.of(context.db, contact.id, session.id)
    gone = when_line(context, session, language)
    if gone is not None:
        if gone != lead:
            lines.append(gone)
    elif left:
        lines.append(
            t(language, "Seats left: {count} of {capacity}", count=left, capacity=session.capacity)
        )
    else:
        lines.append(t(language, "Full: new registrations go on the waiting list."))
    if mine and mine.status == "waitlisted":
        position = registrations.waitlist_position(context.db, contact.id, session.id)
        lines.append(
            t(language, "You are number {position} on the waiting list.", position=position)
        )
    elif mine:
        lines.append(
            t(language, "Your status: {status}", status=t(language, STATUS_LABELS[mine.status]))
        )
    return [
        Reply(
            "\n".join(lines),
            _card_choices(context, contact, session, mine),
            language=views.lang(contact),
        )
    ]


def _card_choices(
    context: Context, contact: Contact, session: Session, mine: registrations.Registration | None
) -> tuple[Choice, ...]:
    choices: list[Choice] = []
    open_for_registration = session.status == "scheduled" and session.starts_at > context.now()
    holds = mine is not None and mine.status in registrations.ACTIVE
    if open_for_registration and not holds:
        # Register first and interest always shown: pressing one leaves the numbers as they
        # were (on WhatsApp a second "1" must not mean something else).
        full = registrations.seats_taken(context.db, session.id) >= session.capacity
        label = N_("Join the waiting list") if full else N_("Register")
        choices.append(views.choice(contact, label, "reg", session.id))
        choices.append(views.choice(contact, "I'm interested", "int", session.id))
    if mine is not None and holds and open_for_registration:
        label = (
            N_("Leave the waiting list")
            if mine.status == "waitlisted"
            else N_("Cancel my registration")
        )
        choices.append(views.choice(contact, label, "can", session.id))
    if session.status == "scheduled":
        choices.append(views.choice(contact, "Add to my calendar", "ics", session.id))
    choices.append(views.choice(contact, "Back to sessions", "ss", "0"))
    choices.append(views.back_to_menu(contact))
    return tuple(choices)


def _open_session(context: Context, contact: Contact, session_id: str) -> Session | list[Reply]:
    """The session if it can still be acted on, else the reply that says why not."""
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    if session.status == "cancelled":
        return card(context, contact, session.id)
    if session.starts_at <= context.now():
        return card(
            context,
            contact,
            session.id,
            lead=t(contact.language, "This session has already started: registration is closed."),
        )
    return session


def interested(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = _open_session(context, contact, session_id)
    if isinstance(session, list):
        return session
    registrations.mark_interested(context.db, contact.id, session.id)
    return card(
        context,
        contact,
        session.id,
        lead=t(contact.language, "Noted: we will keep you informed about this session."),
    )


def register(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = _open_session(context, contact, session_id)
    if isinstance(session, list):
        return session
    outcome = registrations.register(context.db, contact.id, session.id, session.capacity)
    language = contact.language
    if outcome.status == "registered":
        lead = t(language, "You are registered. We will remind you before the session starts.")
    elif outcome.status == "waitlisted":
        lead = t(
            language,
            "The session is full: you are number {position} on the waiting list."
            " We will tell you if a seat frees up.",
            position=outcome.waitlist_position,
        )
    else:
        lead = t(language, "You are already registered for this session.")
    return card(context, contact, session.id, lead=lead)


def ask_cancel(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    """Cancelling gives a seat away for good: ask first."""
    session = catalogue.session(context.db, session_id)
    mine = registrations.of(context.db, contact.id, session_id) if session else None
    if session is None or mine is None or mine.status not in registrations.ACTIVE:
        return card(context, contact, session_id)
    return [
        views.say(
            contact,
            "Cancel your registration for \u201c{title}\u201d? Your seat will go to the next"
            " person waiting.",
            views.choice(contact, "Yes, cancel it", "can_yes", session.id),
            views.choice(contact, "No, keep it", "s", session.id),
            title=title_of(session, contact.language),
        )
    ]


def cancel(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    mine = registrations.of(context.db, contact.id, session.id)
    if mine is None or mine.status not in (*registrations.ACTIVE, "interested"):
        return card(context, contact, session.id)
    promoted = registrations.cancel(context.db, contact.id, session.id, session.capacity)
    if promoted is not None:
        outbox.notify_promotion(
            context.db,
            session_id=session.id,
            contact_id=promoted,
            now=context.now(),
            channels=context.channels,
        )
    return card(
        context, contact, session.id, lead=t(contact.language, "Your registration is cancelled.")
    )


def calendar_file(context: Context, contact: Contact, session_id: str) -> list[Reply]:
    session = catalogue.session(context.db, session_id)
    if session is None:
        return [views.menu(contact, t(contact.language, "This session no longer exists."))]
    title = title_of(session, contact.language)
    attachment = session_ics(session, title, stamp=context.now())
    return [
        Reply(
            t(
                contact.language,
                "Open this file to add \u201c{title}\u201d to your calendar.",
                title=title,
            ),
            (
                views.choice(contact, "Back to the session", "s", session.id),
                views.back_to_menu(contact),
            ),
            attachments=(attachment,),
            language=views.lang(contact),
        )
    ]


def mine(context: Context, contact: Contact) -> list[Reply]:
    """The person's sessions, each saying when it was cancelled or is over."""
    rows = [
        row
        for row in registrations.of_contact(context.db, contact.id)
        if row.status not in ("cancelled", "declined")
    ]
    if not rows:
        return [
            views.say(
                contact,
                "You have no sessions yet.",
                views.choice(contact, "Upcoming sessions", "ss", "0"),
                views.back_to_menu(contact),
            )
        ]
    lines = [t(contact.language, "Your sessions:")]
    choices: list[Choice] = []
    for row in rows:
        session = catalogue.session(context.db, row.session_id)
        if session is None:
            continue
        title = title_of(session, contact.language)
        when = format_span(session.starts_at, session.ends_at, context.zone, contact.language)
        status = t(contact.language, STATUS_LABELS[row.status])
        if session.status == "cancelled":
            status = t(contact.language, "session cancelled")
        elif session.ends_at <= context.now() and row.status not in ("attended", "no_show"):
            status = t(contact.language, "{status}, session over", status=status)
        lines.append(f"• {title} — {when} ({status})")
        choices.append(Choice(title, Action("s", (session.id,))))
    choices.append(views.back_to_menu(contact))
    return [Reply("\n".join(lines), tuple(choices), language=views.lang(contact))]
