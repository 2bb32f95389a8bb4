"""First contact: language → consent → name → company → role → topics.

The next step is derived from what the contact row already holds, so a person who stops
half-way (or switches channel, or meets a restart) resumes exactly where they left off, and a
contact imported from a mailing list with everything filled in is not asked again.
"""

from __future__ import annotations

import unicodedata
from dataclasses import replace

from handlers import brand, topics, views
from handlers.context import Context
from handlers.i18n import LANGUAGES, t, tn
from handlers.types import Action, Choice, Reply, whole_number
from storage import catalogue, companies
from storage import contacts as contacts_store
from storage.contacts import Contact
from storage.names import clean_name

LANGUAGE_NAMES = {"fr": "Français", "ar": "العربية", "en": "English"}
NAME_MAX = 80
NAME_MIN_LETTERS = 2
NAME_JOINERS = frozenset(" -'’.")
COMPANY_QUERY_MIN = 2
COMPANY_QUERY_MAX = 80


def next_step(context: Context, contact: Contact) -> str | None:
    """The first onboarding step still missing, or None when onboarding is complete."""
    if contact.language is None:
        return "language"
    if contact.consent_at is None and contact.opted_out_at is None:
        return "consent"  # answered either way: a "no" is recorded too (privacy.decide)
    if not contact.name:
        return "name"
    if contact.company_id is None and not contact.company_other:
        return "company"
    if contact.role is None:
        return "role"
    if (
        not contact.state.get("topics_chosen")
        and contact.may_be_notified
        and catalogue.all_topics(context.db)
    ):  # topics choose notifications: none, none
        return "topics"
    return None


def prompt(context: Context, contact: Contact, *, lead: str | None = None) -> list[Reply]:
    """The question for the contact's current step, optionally after `lead` (already translated)."""
    step = next_step(context, contact)
    replies: list[Reply] = []
    if step == "language":
        replies.append(language_question(contact))
    elif step == "consent":
        replies.append(consent_question(context, contact))
    elif step == "name":
        replies.append(views.say(contact, "What is your full name?"))
    elif step == "company":
        replies.append(
            views.say(
                contact, "Which member company do you work for? Type a few letters of its name."
            )
        )
    elif step == "role":
        replies.append(
            views.say(
                contact,
                "What is your role?",
                views.choice(contact, "Manager", "role", "manager"),
                views.choice(contact, "Trainee", "role", "trainee"),
            )
        )
    elif step == "topics":
        replies.append(topics.toggles(context, contact, onboarding=True))
    if lead and replies:
        replies[0] = replace(replies[0], text=f"{lead}\n\n{replies[0].text}")
    elif lead:
        replies.append(Reply(lead, language=views.lang(contact)))
    return replies


def consent_question(context: Context, contact: Contact) -> Reply:
    """May we send notifications? Asked once during onboarding, and again on /start by
    someone who said no. Worded by `brand`: the audit keeps the same wording."""
    return Reply(
        brand.consent_question(context.brand, contact.language),
        (
            views.choice(contact, "Yes, I agree", "consent", "yes"),
            views.choice(contact, "No, thanks", "consent", "no"),
        ),
        language=views.lang(contact),
    )


def language_question(contact: Contact) -> Reply:
    return Reply(
        text="Choisissez votre langue · اختر لغتك · Choose your language",
        choices=tuple(Choice(LANGUAGE_NAMES[code], Action("lang", (code,))) for code in LANGUAGES),
        language=views.lang(contact),
    )


def choose_language(context: Context, contact: Contact, code: str) -> list[Reply]:
    if code not in LANGUAGES:
        return [language_question(contact)]
    contacts_store.update(context.db, contact.id, language=code)
    contact = _reload(context, contact)
    if next_step(context, contact) is None:
        return [views.menu(contact, t(code, "Language changed to English."))]
    return prompt(context, contact)


def answer_text(context: Context, contact: Contact, text: str) -> list[Reply]:
    """Free text during onboarding: a name or a company search, depending on the step."""
    step = next_step(context, contact)
    if step == "name":
        return _take_name(context, contact, text)
    if step == "company":
        return _search_company(context, contact, text)
    return prompt(context, contact, lead=t(contact.language, "Please use the buttons below."))


def _take_name(context: Context, contact: Contact, text: str) -> list[Reply]:
    """A name is letters (any script), with spaces, hyphens, apostrophes or dots between them,
    of a plausible length; anything else (a digit pressed for a button, a sentence) gets the
    question again with what to fix."""
    name = clean_name(text)
    letters = sum(1 for ch in name if ch.isalpha())
    if len(name) > NAME_MAX:
        lead = t(
            contact.language,
            "That is too long for a name: please send at most {max} characters.",
            max=NAME_MAX,
        )
        return prompt(context, contact, lead=lead)
    if letters < NAME_MIN_LETTERS or not all(_in_name(ch) for ch in name):
        lead = t(contact.language, "Please send your name in letters, for example “Amina Alaoui”.")
        return prompt(context, contact, lead=lead)
    contacts_store.update(context.db, contact.id, name=name)
    contact = _reload(context, contact)
    return prompt(
        context, contact, lead=t(contact.language, "Nice to meet you, {name}.", name=name)
    )


def _in_name(ch: str) -> bool:
    return ch.isalpha() or unicodedata.category(ch).startswith("M") or ch in NAME_JOINERS


def _search_company(context: Context, contact: Contact, text: str) -> list[Reply]:
    query = clean_name(text)[:COMPANY_QUERY_MAX]
    if len(query) < COMPANY_QUERY_MIN:
        return [
            Reply(
                tn(
                    contact.language,
                    "Please type at least {count} letter of your company's name.",
                    "Please type at least {count} letters of your company's name.",
                    COMPANY_QUERY_MIN,
                ),
                language=views.lang(contact),
            )
        ]
    contacts_store.set_state(context.db, contact.id, {**contact.state, "company_query": query})
    matches = companies.search(context.db, query)
    not_listed = views.choice(contact, "My company is not listed", "co_none")
    if not matches:
        return [
            views.say(
                contact,
                "No member company matches \u201c{query}\u201d. Try other letters, or choose"
                " \u201cnot listed\u201d.",
                not_listed,
                query=query,
            )
        ]
    picks = tuple(
        Choice(
            f"{company.name} — {company.city}" if company.city else company.name,
            Action("co", (str(company.id),)),
        )
        for company in matches
    )
    return [
        Reply(
            text=t(contact.language, "Which one is yours? Or type other letters to search again."),
            choices=(*picks, not_listed),
            language=views.lang(contact),
        )
    ]


def pick_company(context: Context, contact: Contact, company_id: str | None) -> list[Reply]:
    if next_step(context, contact) != "company":
        return prompt(context, contact)
    if company_id is None:
        typed = contact.state.get("company_query") or "?"
        contacts_store.update(context.db, contact.id, company_other=typed)
    else:
        number = whole_number(company_id)
        company = companies.get(context.db, number) if number is not None else None
        if company is None:
            return prompt(context, contact, lead=t(contact.language, "This button has expired."))
        contacts_store.update(context.db, contact.id, company_id=company.id, company_other=None)
    state = {key: value for key, value in contact.state.items() if key != "company_query"}
    contacts_store.set_state(context.db, contact.id, state)
    return prompt(context, _reload(context, contact))


def pick_role(context: Context, contact: Contact, role: str) -> list[Reply]:
    if role not in contacts_store.ROLES:
        return prompt(context, contact, lead=t(contact.language, "This button has expired."))
    contacts_store.update(context.db, contact.id, role=role)
    return prompt(context, _reload(context, contact))


def finish(context: Context, contact: Contact) -> Contact:
    """Mark the topics step done (the only step with no field of its own)."""
    contacts_store.set_state(context.db, contact.id, {**contact.state, "topics_chosen": True})
    return _reload(context, contact)


def _reload(context: Context, contact: Contact) -> Contact:
    fresh = contacts_store.get(context.db, contact.id)
    assert fresh is not None
    return fresh
