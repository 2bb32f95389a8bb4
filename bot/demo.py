"""A realistic demo data set, so that a newcomer tries the whole loop with one command.

Six topics, twelve sessions across Morocco in the coming weeks (dated from the day it is
loaded, so it never goes stale), ten member companies, six contacts in French, Arabic and
English. The contacts are console people — `formabot shell --as nadia` is Nadia — who
consented and finished onboarding. The first session is full (three seats, three of the
contacts registered): whoever registers next joins the waiting list, and a "can't come"
after `formabot remind` promotes them. The names and companies are invented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlite_utils import Database

from storage import audit, catalogue, companies, contacts, registrations, subscriptions
from storage.db import write_transaction
from storage.zones import local_to_utc, now_utc, to_utc_text, zone

TOPICS = {
    "soudage": {"fr": "Soudage", "ar": "اللحام", "en": "Welding"},
    "usinage": {"fr": "Usinage", "ar": "التشغيل الآلي", "en": "Machining"},
    "maintenance": {
        "fr": "Maintenance industrielle",
        "ar": "الصيانة الصناعية",
        "en": "Industrial maintenance",
    },
    "electrotechnique": {
        "fr": "Électrotechnique et automatismes",
        "ar": "الكهروتقنية والأتمتة",
        "en": "Electrical engineering and automation",
    },
    "securite": {
        "fr": "Santé et sécurité au travail",
        "ar": "الصحة والسلامة في العمل",
        "en": "Health and safety at work",
    },
    "qualite": {
        "fr": "Qualité et amélioration continue",
        "ar": "الجودة والتحسين المستمر",
        "en": "Quality and continuous improvement",
    },
}

COMPANIES = (
    ("FM-1001", "Atlas Fonderie", "Casablanca", "metallurgy"),
    ("FM-1002", "Chaudronnerie du Détroit", "Tanger", "metallurgy"),
    ("FM-1003", "Gharb Mécanique Industrielle", "Kénitra", "mechanics"),
    ("FM-1004", "Sebou Électromécanique", "Fès", "electromechanics"),
    ("FM-1005", "Tôlerie de Mohammedia", "Mohammedia", "metallurgy"),
    ("FM-1006", "Souss Maintenance Services", "Agadir", "electromechanics"),
    ("FM-1007", "Atlantique Usinage", "Safi", "mechanics"),
    ("FM-1008", "Tensift Automatismes", "Marrakech", "electromechanics"),
    ("FM-1009", "Doukkala Structures Métalliques", "El Jadida", "metallurgy"),
    ("FM-1010", "Oriental Pièces Mécaniques", "Oujda", "mechanics"),
)


@dataclass(frozen=True)
class DemoSession:
    id: str
    titles: dict[str, str]
    topics: tuple[str, ...]
    in_days: int
    place: str
    capacity: int
    hours: tuple[time, time] = (time(9), time(17))
    days: int = 1


SESSIONS = (
    DemoSession(
        "tig-casablanca",
        {
            "fr": "Soudage TIG – niveau 1",
            "ar": "لحام TIG – المستوى 1",
            "en": "TIG welding – level 1",
        },
        ("soudage",),
        3,
        "Casablanca, Aïn Sebaâ",
        3,
    ),
    DemoSession(
        "cnc-tanger",
        {
            "fr": "Programmation CNC – tournage",
            "ar": "برمجة آلات CNC – الخراطة",
            "en": "CNC programming – turning",
        },
        ("usinage",),
        6,
        "Tanger, zone industrielle Gzenaya",
        12,
    ),
    DemoSession(
        "preventive-kenitra",
        {
            "fr": "Maintenance préventive des équipements",
            "ar": "الصيانة الوقائية للمعدات",
            "en": "Preventive maintenance of equipment",
        },
        ("maintenance",),
        8,
        "Kénitra, Atlantic Free Zone",
        15,
    ),
    DemoSession(
        "habilitation-mohammedia",
        {
            "fr": "Habilitation électrique B1/B2",
            "ar": "التأهيل الكهربائي B1/B2",
            "en": "Electrical safety clearance B1/B2",
        },
        ("electrotechnique", "securite"),
        10,
        "Mohammedia",
        10,
        days=2,
    ),
    DemoSession(
        "iso9001-casablanca",
        {
            "fr": "ISO 9001 : piloter la qualité en atelier",
            "ar": "ISO 9001: تدبير الجودة في الورشة",
            "en": "ISO 9001: quality on the shop floor",
        },
        ("qualite",),
        13,
        "Casablanca, Sidi Maârouf",
        20,
    ),
    DemoSession(
        "mig-fes",
        {
            "fr": "Soudage MIG/MAG des aciers",
            "ar": "لحام الفولاذ MIG/MAG",
            "en": "MIG/MAG welding of steels",
        },
        ("soudage",),
        15,
        "Fès, Sidi Brahim",
        10,
        days=2,
    ),
    DemoSession(
        "metrologie-agadir",
        {
            "fr": "Métrologie dimensionnelle",
            "ar": "القياسات البعدية",
            "en": "Dimensional metrology",
        },
        ("usinage", "qualite"),
        17,
        "Agadir, Aït Melloul",
        12,
    ),
    DemoSession(
        "hydraulique-safi",
        {
            "fr": "Hydraulique industrielle : diagnostic des pannes",
            "ar": "الهيدروليك الصناعي: تشخيص الأعطال",
            "en": "Industrial hydraulics: fault finding",
        },
        ("maintenance",),
        20,
        "Safi",
        12,
    ),
    DemoSession(
        "automates-tanger",
        {
            "fr": "Automates programmables – initiation",
            "ar": "المتحكمات المنطقية القابلة للبرمجة – مدخل",
            "en": "Programmable logic controllers – introduction",
        },
        ("electrotechnique",),
        23,
        "Tanger, Tanger Automotive City",
        10,
        days=3,
    ),
    DemoSession(
        "incendie-marrakech",
        {
            "fr": "Prévenir le risque d’incendie en atelier",
            "ar": "الوقاية من خطر الحريق في الورشة",
            "en": "Preventing fire in the workshop",
        },
        ("securite",),
        27,
        "Marrakech, Sidi Ghanem",
        25,
        hours=(time(9), time(12, 30)),
    ),
    DemoSession(
        "lean-kenitra",
        {
            "fr": "Lean manufacturing : la méthode 5S",
            "ar": "التصنيع الرشيق: منهجية 5S",
            "en": "Lean manufacturing: the 5S method",
        },
        ("qualite",),
        31,
        "Kénitra",
        16,
    ),
    DemoSession(
        "inspection-eljadida",
        {
            "fr": "Contrôle et inspection des soudures",
            "ar": "مراقبة وفحص اللحامات",
            "en": "Weld inspection and testing",
        },
        ("soudage", "qualite"),
        38,
        "El Jadida, Jorf Lasfar",
        12,
        days=2,
    ),
)


@dataclass(frozen=True)
class DemoContact:
    console_name: str
    name: str
    company: str
    role: str
    language: str
    topics: tuple[str, ...]
    registered: tuple[str, ...] = ()


CONTACTS = (
    DemoContact(
        "nadia",
        "Nadia Bennani",
        "FM-1001",
        "manager",
        "fr",
        ("soudage", "qualite"),
        ("tig-casablanca",),
    ),
    DemoContact(
        "youssef",
        "يوسف العمراني",
        "FM-1002",
        "trainee",
        "ar",
        ("soudage", "usinage"),
        ("tig-casablanca",),
    ),
    DemoContact(
        "sara",
        "Sara Idrissi",
        "FM-1003",
        "manager",
        "en",
        ("maintenance", "soudage"),
        ("tig-casablanca",),
    ),
    DemoContact(
        "hamza", "Hamza Tazi", "FM-1004", "trainee", "fr", ("electrotechnique", "maintenance")
    ),
    DemoContact("khadija", "خديجة الوزاني", "FM-1006", "manager", "ar", ("securite", "qualite")),
    DemoContact("omar", "Omar Chraibi", "FM-1007", "manager", "fr", ("usinage", "maintenance")),
)


class NotEmpty(Exception):
    """The database already holds a catalogue or contacts: demo data would mix with them."""


@dataclass(frozen=True)
class Loaded:
    topics: int
    sessions: int
    companies: int
    contacts: tuple[str, ...]  # the console names

    def __str__(self) -> str:
        return (
            f"demo data loaded: {self.topics} topics, {self.sessions} sessions in the"
            f" coming weeks, {self.companies} member companies, {len(self.contacts)}"
            f" contacts (shell names: {', '.join(self.contacts)})"
        )


def is_empty(db: Database) -> bool:
    return not (
        catalogue.all_sessions(db)
        or catalogue.all_topics(db)
        or companies.count(db)
        or contacts.count(db)
    )


def load(db: Database, *, timezone: str, today: date | None = None, actor: str = "cli") -> Loaded:
    """Write the demo data set into an empty database, sessions dated from `today` (local)."""
    if not is_empty(db):
        raise NotEmpty("the database already holds a catalogue, companies or contacts")
    now = now_utc()
    first_day = today or now.astimezone(zone(timezone)).date()
    with write_transaction(db):
        for slug, names in TOPICS.items():
            catalogue.upsert_topic(db, slug, names)
        for session in SESSIONS:
            day = _weekday(first_day + timedelta(days=session.in_days))
            start, end = session.hours
            catalogue.upsert_session(
                db,
                id=session.id,
                titles=session.titles,
                topics=list(session.topics),
                starts_at=local_to_utc(datetime.combine(day, start), timezone),
                ends_at=local_to_utc(
                    datetime.combine(day + timedelta(days=session.days - 1), end), timezone
                ),
                timezone=timezone,
                place=session.place,
                capacity=session.capacity,
            )
        for member_id, name, city, sector in COMPANIES:
            companies.upsert(db, member_id=member_id, name=name, city=city, sector=sector)
        for person in CONTACTS:
            _add_contact(db, person, now)
        audit.record(
            db, actor=actor, action="demo.loaded", sessions=len(SESSIONS), contacts=len(CONTACTS)
        )
    return Loaded(
        len(TOPICS),
        len(SESSIONS),
        len(COMPANIES),
        tuple(person.console_name for person in CONTACTS),
    )


def _weekday(day: date) -> date:
    """Training runs Monday to Friday: a Saturday or a Sunday moves to the Monday after."""
    return day + timedelta(days=max(0, 7 - day.weekday())) if day.weekday() >= 5 else day


def _add_contact(db: Database, person: DemoContact, now: datetime) -> None:
    company = companies.by_member_id(db, person.company)
    contact_id = contacts.create(
        db,
        name=person.name,
        role=person.role,
        language=person.language,
        company_id=company.id if company else None,
        consent_at=to_utc_text(now),
        state={"welcomed": True, "topics_chosen": True},
    )
    contacts.attach_identity(db, contact_id, channel="console", address=person.console_name)
    for slug in person.topics:
        subscriptions.subscribe(db, contact_id, slug)
    for session_id in person.registered:
        found = catalogue.session(db, session_id)
        if found is not None:
            registrations.register(db, contact_id, session_id, found.capacity)
