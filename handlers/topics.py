"""Topic subscriptions: a list of toggles that shows which topics are on."""

from __future__ import annotations

from handlers import views
from handlers.context import Context
from handlers.i18n import N_, t
from handlers.types import Action, Choice, Reply
from storage import catalogue, subscriptions
from storage.catalogue import Topic
from storage.contacts import Contact


def topic_name(topic: Topic, language: str | None) -> str:
    names = topic.names
    return names.get(language or "fr") or names.get("fr") or names.get("en") or topic.slug


def toggles(
    context: Context, contact: Contact, *, onboarding: bool = False, replaces_menu: bool = False
) -> Reply:
    followed = set(subscriptions.topics_of(context.db, contact.id))
    all_topics = catalogue.all_topics(context.db)
    if not all_topics:
        return views.menu(contact, t(contact.language, "There are no topics yet."))
    choices = tuple(
        Choice(
            ("✅ " if topic.slug in followed else "⬜ ") + topic_name(topic, contact.language),
            Action("tp", (topic.slug,)),
        )
        for topic in all_topics
    )
    text = (
        N_(
            "Which topics interest you? Tap a topic to follow it or not, then \u201cDone\u201d."
            " With no topic, you will hear about every session."
        )
        if onboarding
        else N_("Your topics: tap one to follow it or not.")
    )
    return Reply(
        text=t(contact.language, text),
        choices=(*choices, views.choice(contact, "Done", "tp_done")),
        replaces_menu=replaces_menu,
        language=views.lang(contact),
    )


def toggle(context: Context, contact: Contact, slug: str, *, onboarding: bool) -> list[Reply]:
    if catalogue.topic(context.db, slug) is None:
        return [views.menu(contact, t(contact.language, "This button has expired."))]
    subscriptions.toggle(context.db, contact.id, slug)
    return [toggles(context, contact, onboarding=onboarding, replaces_menu=True)]


def follow(context: Context, contact: Contact, slug: str) -> list[Reply]:
    """Entry payload `topic_<slug>`: follow the topic and say so."""
    topic = catalogue.topic(context.db, slug)
    if topic is None:
        return [views.menu(contact, t(contact.language, "This topic no longer exists."))]
    subscriptions.subscribe(context.db, contact.id, slug)
    return [
        views.menu(
            contact,
            t(
                contact.language,
                "You now follow \u201c{topic}\u201d.",
                topic=topic_name(topic, contact.language),
            ),
        )
    ]


def summary(context: Context, contact: Contact) -> str:
    followed = subscriptions.topics_of(context.db, contact.id)
    names = [
        topic_name(topic, contact.language)
        for topic in catalogue.all_topics(context.db)
        if topic.slug in followed
    ]
    if not names:
        return t(contact.language, "You follow no topic: you hear about every session.")
    return t(contact.language, "You follow: {topics}.", topics=", ".join(names))
