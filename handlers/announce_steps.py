"""What each step of `/announce` shows: the question, the draft so far, the buttons.

Pure views over a `Draft` (no state is changed here); `announce` decides which one to show.
Every step ends with a Cancel button, so leaving is one tap away on a phone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from handlers import coordinator_views, views
from handlers.announce_draft import Draft
from handlers.context import Context
from handlers.i18n import LANGUAGES, N_, format_when, language_name, t, zone_label
from handlers.notifications import render
from handlers.quiet_hours import QuietHours
from handlers.sessions import title_of
from handlers.topics import topic_name
from handlers.types import Action, Choice, Reply
from storage import catalogue
from storage.announcements import Announcement
from storage.audience import languages, preview
from storage.catalogue import Session
from storage.contacts import ROLES, Contact

SESSIONS_SHOWN = 8
# Registrants are often told something during or just after their session.
REGISTRANTS_SINCE = timedelta(days=7)


def view(
    context: Context,
    contact: Contact,
    draft: Draft,
    *,
    lead: str | None = None,
    replaces_menu: bool = False,
) -> list[Reply]:
    """The current step's question, after `lead` (an error or a note) when there is one. A
    step reached by a button may edit that button's message in place (`replaces_menu`)."""
    views_by_step: dict[str, Callable[[], list[Reply]]] = {
        "audience": lambda: [_audience(context, contact, draft)],
        "registrants": lambda: [_session_picker(context, contact, draft, registrants=True)],
        "session": lambda: [_session_picker(context, contact, draft, registrants=False)],
        "text": lambda: [_text(contact, draft)],
        "translation": lambda: [_translation(contact, draft)],
        "time": lambda: [_time(context, contact)],
        "preview": lambda: _preview(context, contact, draft),
    }
    replies = views_by_step[draft.step]()
    first = replies[0]
    text = f"{lead}\n\n{first.text}" if lead else first.text
    replies[0] = replace(first, text=text, replaces_menu=replaces_menu and not lead)
    return replies


def _reply(contact: Contact, text: str, choices: list[Choice]) -> Reply:
    return Reply(
        text, (*choices, views.choice(contact, "Cancel", "an_cancel")), language=views.lang(contact)
    )


def _mark(on: bool, label: str) -> str:
    return ("✅ " if on else "⬜ ") + label


def _audience(context: Context, contact: Contact, draft: Draft) -> Reply:
    language = contact.language
    choices = [
        Choice(
            _mark(topic.slug in draft.topics, topic_name(topic, language)),
            Action("an_tp", (topic.slug,)),
        )
        for topic in catalogue.all_topics(context.db)
    ]
    choices += [
        Choice(
            _mark(role in draft.roles, t(language, coordinator_views.ROLE_LABELS[role])),
            Action("an_role", (role,)),
        )
        for role in ROLES
    ]
    choices.append(
        Choice(
            _mark(draft.registrants is not None, t(language, "Registrants of a session…")),
            Action("an_regs"),
        )
    )
    if draft.cities:
        choices.append(views.choice(contact, "Any city", "an_nocity"))
    next_label = N_("Next: everyone") if draft.audience.is_everyone else N_("Next")
    choices.append(views.choice(contact, next_label, "an_next"))
    text = "\n\n".join(
        (
            t(
                language,
                "New announcement, step 1 of 4: who should receive it? Tap topics and roles"
                " to choose them. To keep to some cities, type their names, separated by"
                " commas.",
            ),
            t(
                language,
                "Audience: {audience}",
                audience=coordinator_views.audience(context, language, draft.audience),
            ),
        )
    )
    return _reply(contact, text, choices)


def _sessions(context: Context, draft: Draft, *, registrants: bool) -> list[Session]:
    now = context.now()
    if registrants:
        return catalogue.upcoming_sessions(
            context.db, after=now - REGISTRANTS_SINCE, limit=SESSIONS_SHOWN
        )
    return catalogue.upcoming_sessions(
        context.db, after=now, topics=list(draft.topics) or None, limit=SESSIONS_SHOWN
    )


def _session_picker(
    context: Context, contact: Contact, draft: Draft, *, registrants: bool
) -> Reply:
    language = contact.language
    name = "an_reg" if registrants else "an_ses"
    choices = [
        Choice(
            f"{title_of(session, language)} · {session.starts_at.astimezone(context.zone):%d/%m}",
            Action(name, (session.id,)),
        )
        for session in _sessions(context, draft, registrants=registrants)
    ]
    if registrants:
        text = t(language, "Whose registrants? Choose the session, or type its id.")
        if draft.registrants:
            choices.append(views.choice(contact, "Not only registrants", "an_noreg"))
    else:
        text = t(
            language,
            "Step 2 of 4: is it about a session? Its date and a Register button"
            " are added to the message. Choose it, type its id, or tap \u201cNo"
            " session\u201d.",
        )
        choices.append(views.choice(contact, "No session", "an_noses"))
    choices.append(views.choice(contact, "Back", "an_aud"))
    return _reply(contact, text, choices)


def _versions(contact: Contact, draft: Draft) -> list[Choice]:
    return [
        Choice(
            ("✅ " if language in draft.texts else "➕ ")
            + t(
                contact.language,
                "Text in {language}",
                language=language_name(language, contact.language),
            ),
            Action("an_lang", (language,)),
        )
        for language in LANGUAGES
    ]


def _text(contact: Contact, draft: Draft) -> Reply:
    language = contact.language
    if "*" not in draft.texts:
        return _reply(
            contact,
            t(
                language,
                "Step 3 of 4: type the message. It goes to every"
                " language, unless you add a version for one"
                " next.",
            ),
            [views.choice(contact, "Back", "an_aud")],
        )
    text = "\n\n".join(
        (
            t(language, "Message saved:"),
            draft.texts["*"],
            t(
                language,
                "Add a version for a language, type the message again to replace it, or go on.",
            ),
        )
    )
    return _reply(
        contact, text, [*_versions(contact, draft), views.choice(contact, "Next", "an_next")]
    )


def _translation(contact: Contact, draft: Draft) -> Reply:
    name = language_name(draft.translating or "", contact.language)
    return _reply(
        contact,
        t(contact.language, "Type the message in {language}.", language=name),
        [views.choice(contact, "Back", "an_txt")],
    )


def _time(context: Context, contact: Contact) -> Reply:
    text = t(
        contact.language,
        "Step 4 of 4: when should it go out? Tap \u201cNow\u201d, or type"
        " a date and a time ({zone}) like this: 2026-12-09 09:00",
        zone=zone_label(context.timezone, contact.language),
    )
    return _reply(
        contact,
        text,
        [views.choice(contact, "Now", "an_now"), views.choice(contact, "Back", "an_txt")],
    )


VERSION_LABELS = {
    "fr": N_("French version:"),
    "ar": N_("Arabic version:"),
    "en": N_("English version:"),
}


def held_until(context: Context, draft: Draft) -> datetime | None:
    """When quiet hours will let the draft go out (UTC), if its time falls inside them and
    it is not urgent; None when it goes at its time."""
    quiet = QuietHours.parse(context.quiet_hours, context.zone)
    if quiet is None or draft.urgent:
        return None
    return quiet.ends_at(draft.due or context.now())


def _versions_shown(context: Context, contact: Contact, draft: Draft) -> list[str]:
    """Every language version that will be sent, as its readers will see it: one per
    language read in the audience (the coordinator's own when no one matches yet)."""
    language = contact.language
    session = catalogue.session(context.db, draft.session) if draft.session else None
    sample = Announcement(
        id=0,
        kind="announcement",
        texts=draft.texts,
        audience=draft.audience,
        session_id=draft.session,
        offset_key=None,
        due_at=draft.due or context.now(),
        urgent=draft.urgent,
        status="scheduled",
        note="",
        created_by="",
        created_at="",
    )
    read = languages(
        context.db,
        draft.audience,
        channels=context.channels,
        default_language=context.default_language,
    )
    versions = [code for code in LANGUAGES if read.get(code)] or [views.lang(contact)]
    shown = [t(language, "Preview of the message:")]
    for code in versions:
        message = render(sample, session, code, context.zone)
        block = [message.text]
        if message.choices:
            block.append(
                t(
                    language,
                    "With the buttons: {labels}",
                    labels=", ".join(choice.label for choice in message.choices),
                )
            )
        if len(versions) > 1:
            block.insert(0, t(language, VERSION_LABELS[code]))
        shown.append("\n\n".join(block))
    return shown


def _preview(context: Context, contact: Contact, draft: Draft) -> list[Reply]:
    language = contact.language
    shown = _versions_shown(context, contact, draft)
    counts = preview(context.db, draft.audience, channels=context.channels)
    total = sum(counts.values())
    when = format_when(draft.due, context.zone, language) if draft.due else t(language, "now")
    summary = [
        t(
            language,
            "Audience: {audience}",
            audience=coordinator_views.audience(context, language, draft.audience),
        ),
        t(
            language,
            "Recipients: {total} ({channels})",
            total=total,
            channels=coordinator_views.per_channel(counts, language),
        ),
        t(language, "When: {when}", when=when),
    ]
    choices: list[Choice] = []
    held = held_until(context, draft)
    if held is not None:
        quiet = QuietHours.parse(context.quiet_hours, context.zone)
        summary.append(
            t(
                language,
                "That is within quiet hours ({hours}, {zone}): it will"
                " go out on {when}, unless you mark it urgent.",
                hours=quiet.describe() if quiet else "",
                zone=zone_label(context.timezone, language),
                when=format_when(held, context.zone, language),
            )
        )
    if draft.urgent:
        summary.append(t(language, "Urgent: it goes out even during quiet hours."))
    if total:
        summary.append(t(language, "Send it?"))
        choices.append(views.choice(contact, "Confirm", "an_ok"))
        if held is not None:
            choices.append(views.choice(contact, "Urgent: send it at its time", "an_urg"))
        elif draft.urgent:
            choices.append(views.choice(contact, "Not urgent", "an_urg"))
    else:
        summary.append(t(language, "No one matches this audience: change it, or cancel."))
        choices.append(views.choice(contact, "Change the audience", "an_aud"))
    return [
        Reply("\n\n".join(shown), language=views.lang(contact)),
        _reply(contact, "\n".join(summary), choices),
    ]
