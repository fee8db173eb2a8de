"""Sample data: a small realistic demo firm built through the real services, and large
synthetic data sets written with bulk INSERTs (CONTRACT.md: `portal-ui seed`)."""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

from portal_ui import access, access_rows, contacts, db, invitations, staff
from portal_ui.activity import Actor
from portal_ui.batch_sql import insert_columns
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.errors import DatabaseNotEmpty
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    AccountStatus,
    Contact,
    ContactEmail,
    ContactPhone,
    Invitation,
    InvitationState,
    PortalUser,
    TeamMember,
)
from portal_ui.security import hash_password, hash_token, new_token


@dataclass(frozen=True)
class Credentials:
    """A sign-in the seed prints so that a tester can use it."""

    name: str
    email: str
    password: str


# ---------------------------------------------------------------------------------------------
# The demo firm (`seed --demo`)
# ---------------------------------------------------------------------------------------------

DEMO_STAFF: tuple[Credentials, ...] = (
    Credentials("Anna Keller", "anna@demofirm.example", "demo-anna-ledger"),
    Credentials("Ben Ortiz", "ben@demofirm.example", "demo-ben-balance"),
    Credentials("Chloé Martin", "chloe@demofirm.example", "demo-chloe-audit"),
)
# Every demo client that has activated signs in to /portal with this password.
DEMO_CLIENT_PASSWORD = "portal-demo-2024"
ANNA, BEN, CHLOE = (member.email for member in DEMO_STAFF)


@dataclass(frozen=True)
class DemoContact:
    name: str
    addresses: tuple[str, ...]
    phones: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True)
class DemoAccount:
    """One account; `login` lists the addresses with Login on here (R2), `notify` those with
    Notify on too. An address with Login on and no DemoInvite is Pending, invite not sent."""

    name: str
    contacts: tuple[str, ...]
    assigned: tuple[str, ...]
    login: tuple[str, ...] = ()
    notify: tuple[str, ...] = ()
    is_test_client: bool = False


@dataclass(frozen=True)
class DemoInvite:
    """How far one address got, in days before now: invited, maybe resent, then activated,
    cancelled, or still Pending."""

    address: str
    sent_days_ago: int
    message: str = ""
    resent_days_ago: int | None = None
    activated_days_ago: int | None = None
    cancelled_days_ago: int | None = None


DEMO_CONTACTS: tuple[DemoContact, ...] = (
    DemoContact("Tom Hartley", ("tom.hartley@example.com",), ("+1 (555) 010-2231",)),
    DemoContact("Sarah Hartley", ("sarah.hartley@example.com",), ("+1 (555) 010-2232",)),
    # One person with two addresses (R1), used differently on two accounts (R2).
    DemoContact(
        "Priya Shah", ("priya.shah@example.com", "p.shah@example.org"), ("+1 (555) 014-7781",)
    ),
    DemoContact("Daniel Kim", ("daniel.kim@example.org",)),
    DemoContact("Linh Nguyen", ("linh.nguyen@example.net",), ("+1 (555) 013-4410",)),
    DemoContact("Minh Nguyen", ("minh.nguyen@example.net",)),
    # The invalid address (R22): no top-level domain, so no invitation can go to it.
    DemoContact("María López", ("maria.lopez@example",), ("+34 600 123 456",), "es"),
    DemoContact("James Carter", ("james.carter@example.com",), ("+1 (555) 011-9024",)),
    DemoContact("Robert Fischer", ("robert.fischer@example.com",)),
    DemoContact("Elena Rossi", ("elena.rossi@example.org",), ("+39 02 1234 5678",), "it"),
    DemoContact("Aisha Bello", ("aisha.bello@example.com",), ("+1 (555) 012-6650",)),
    DemoContact("Martin Dubois", ("martin.dubois@example.net",), ("+33 1 23 45 67 89",), "fr"),
    DemoContact("Carlos Méndez", ("carlos.mendez@example.com",), (), "es"),
    DemoContact("Piotr Kowalski", ("piotr.kowalski@example.com",), ("+1 (555) 015-3307",)),
    DemoContact("Anna Kowalska", ("anna.kowalska@example.com",)),
    DemoContact("Test Client", ("test.client@example.com",)),
)

DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "Hartley & Sons Plumbing",
        ("Tom Hartley", "Sarah Hartley"),
        (ANNA,),
        login=("tom.hartley@example.com", "sarah.hartley@example.com"),
        notify=("tom.hartley@example.com",),
    ),
    DemoAccount(
        "Tom Hartley",
        ("Tom Hartley",),
        (ANNA,),
        login=("tom.hartley@example.com",),
        notify=("tom.hartley@example.com",),
    ),
    DemoAccount(
        "Greenleaf Dental Group",
        ("Priya Shah", "Daniel Kim"),
        (BEN, CHLOE),
        login=("priya.shah@example.com",),
    ),
    DemoAccount("Priya Shah", ("Priya Shah",), (BEN,), login=("priya.shah@example.com",)),
    DemoAccount("Nguyen Family Trust", ("Linh Nguyen", "Minh Nguyen"), (CHLOE,)),
    DemoAccount(
        "Blue Ridge Coffee Roasters",
        ("María López", "James Carter"),
        (BEN,),
        login=("maria.lopez@example",),
    ),
    DemoAccount(
        "Oakwood Property Management",
        ("Robert Fischer",),
        (ANNA,),
        login=("robert.fischer@example.com",),
    ),
    DemoAccount(
        "Elena Rossi",
        ("Elena Rossi",),
        (CHLOE,),
        login=("elena.rossi@example.org",),
        notify=("elena.rossi@example.org",),
    ),
    DemoAccount(
        "Sunrise Yoga Studio", ("Aisha Bello",), (ANNA, BEN), login=("aisha.bello@example.com",)
    ),
    DemoAccount(
        "Martin Dubois", ("Martin Dubois",), (CHLOE,), login=("martin.dubois@example.net",)
    ),
    DemoAccount("Méndez Consulting", ("Carlos Méndez",), (BEN,)),
    DemoAccount(
        "Kowalski Auto Repair",
        ("Piotr Kowalski", "Anna Kowalska"),
        (ANNA,),
        login=("piotr.kowalski@example.com",),
    ),
    DemoAccount(
        "Test Client",
        ("Test Client",),
        (ANNA,),
        is_test_client=True,
        login=("test.client@example.com",),
        notify=("test.client@example.com",),
    ),
)

DEMO_INVITES: tuple[DemoInvite, ...] = (
    DemoInvite("tom.hartley@example.com", sent_days_ago=42, activated_days_ago=41),
    DemoInvite("elena.rossi@example.org", sent_days_ago=12, activated_days_ago=11),
    DemoInvite("test.client@example.com", sent_days_ago=2, activated_days_ago=2),
    DemoInvite("priya.shah@example.com", sent_days_ago=5, resent_days_ago=2),
    # Sent 9 days ago: with the default 7-day lifetime its link has expired (R16).
    DemoInvite("aisha.bello@example.com", sent_days_ago=9),
    DemoInvite(
        "martin.dubois@example.net",
        sent_days_ago=0,
        message="Bonjour Martin, voici votre accès au portail pour vos documents fiscaux.",
    ),
    DemoInvite("piotr.kowalski@example.com", sent_days_ago=20, cancelled_days_ago=15),
)


@dataclass(frozen=True)
class DemoSummary:
    staff: tuple[Credentials, ...]
    clients: tuple[Credentials, ...]
    accounts: int


def database_has_data(session: Session) -> bool:
    """True once the database has team members or accounts."""
    return staff.member_count(session) > 0 or session.scalar(select(func.count(Account.id))) > 0


def seed_demo(session: Session, settings: Settings, now: datetime | None = None) -> DemoSummary:
    """The demo firm, through the same services the pages use; refuses a non-empty database."""
    if database_has_data(session):
        raise DatabaseNotEmpty()
    moment = now or utcnow()
    # The demo's addresses are fictional (example.com has no mail server): no DNS check.
    settings = settings.model_copy(update={"check_dns": False})
    members = {
        cred.email: staff.create_team_member(session, cred.email, cred.name, cred.password)
        for cred in DEMO_STAFF
    }
    for contact in DEMO_CONTACTS:
        contacts.create_contact(
            session,
            settings,
            contact.name,
            addresses=list(contact.addresses),
            phones=list(contact.phones),
            language=contact.language,
        )
    emails = {email.address: email.id or 0 for email in session.scalars(select(ContactEmail))}
    contact_ids = {contact.name: contact.id or 0 for contact in session.scalars(select(Contact))}
    inviters: dict[str, Actor] = {}
    login_time = moment - timedelta(days=45)
    for plan in DEMO_ACCOUNTS:
        account = contacts.create_account(session, plan.name, is_test_client=plan.is_test_client)
        account_id = account.id or 0
        contacts.assign_members(session, account_id, [members[e].id or 0 for e in plan.assigned])
        for name in plan.contacts:
            contacts.link_contact(session, account_id, contact_ids[name])
        actor = _actor(members[plan.assigned[0]])
        for address in plan.login:
            inviters.setdefault(address, actor)
            access_rows.set_login(
                session, settings, account_id, emails[address], True, actor, now=login_time
            )
        for address in plan.notify:
            access_rows.set_switch(
                session, account_id, emails[address], "notify", True, actor, now=login_time
            )
    for invite in DEMO_INVITES:
        email_id, actor = emails[invite.address], inviters[invite.address]
        _play_invite(session, settings, invite, email_id, actor, moment)
    return DemoSummary(DEMO_STAFF, demo_clients(session), len(DEMO_ACCOUNTS))


def _play_invite(
    session: Session,
    settings: Settings,
    invite: DemoInvite,
    email_id: int,
    actor: Actor,
    now: datetime,
) -> None:
    """Send (and resend), then activate or cancel, at the moments the plan gives."""

    def days_ago(days: int) -> datetime:
        return now - timedelta(days=days, minutes=30)

    sent = days_ago(invite.sent_days_ago)
    issued = invitations.send_invitation(
        session, settings, email_id, actor, message=invite.message, now=sent
    )
    if invite.resent_days_ago is not None:
        issued = invitations.send_invitation(
            session,
            settings,
            email_id,
            actor,
            message=invite.message,
            now=days_ago(invite.resent_days_ago),
        )
    if invite.activated_days_ago is not None:
        token = issued.link.rsplit("/", 1)[1]
        # Before the link expires, whatever PORTAL_INVITE_TTL_HOURS says.
        wanted = max(days_ago(invite.activated_days_ago), sent + timedelta(minutes=1))
        activated = min(wanted, sent + (invitations.expiry(settings, sent) - sent) / 2)
        invitations.activate(session, settings, token, DEMO_CLIENT_PASSWORD, now=activated)
    if invite.cancelled_days_ago is not None:
        invitations.cancel_invitation(
            session, email_id, actor, now=days_ago(invite.cancelled_days_ago)
        )


def demo_staff_present(session: Session) -> tuple[Credentials, ...]:
    """The demo team members this database has (to print their sign-in again)."""
    return tuple(c for c in DEMO_STAFF if staff.member_by_email(session, c.email) is not None)


def demo_clients(session: Session) -> tuple[Credentials, ...]:
    """The demo clients that have activated, with the password they sign in with."""
    query = (
        select(Contact.name, ContactEmail.address)
        .join(ContactEmail, ContactEmail.contact_id == Contact.id)
        .join(PortalUser, PortalUser.email_id == ContactEmail.id)
        .order_by(ContactEmail.address)
    )
    demo = {invite.address for invite in DEMO_INVITES if invite.activated_days_ago is not None}
    rows = session.execute(query).all()
    return tuple(Credentials(n, a, DEMO_CLIENT_PASSWORD) for n, a in rows if a in demo)


def _actor(member: TeamMember) -> Actor:
    return Actor(name=member.name, member_id=member.id)


# ---------------------------------------------------------------------------------------------
# Synthetic data (`seed --accounts N --seed S`)
# ---------------------------------------------------------------------------------------------

# Synthetic clients that have activated all sign in with this password; its Argon2id hash is
# computed once and shared, since hashing per row would take hours for 100,000 accounts.
SYNTHETIC_CLIENT_PASSWORD = "synthetic-client-pw"
SYNTHETIC_STAFF_PASSWORD = "synthetic-staff-pw"
SYNTHETIC_STAFF: tuple[tuple[str, str], ...] = (
    ("Olivia Grant", "olivia.grant@firm.example"),
    ("Noah Patel", "noah.patel@firm.example"),
    ("Sofia Marino", "sofia.marino@firm.example"),
    ("Lucas Bernard", "lucas.bernard@firm.example"),
    ("Hannah Weber", "hannah.weber@firm.example"),
)

FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Carlos",
    "María",
    "José",
    "Ana",
    "Luis",
    "Sofía",
    "Jean",
    "Camille",
    "Léa",
    "Hugo",
    "Giulia",
    "Marco",
    "Francesca",
    "Luca",
    "Wei",
    "Mei",
    "Hiroshi",
    "Yuki",
    "Priya",
    "Arjun",
    "Aisha",
    "Omar",
    "Fatima",
    "Kwame",
    "Amara",
    "Lars",
    "Ingrid",
    "Piotr",
    "Olga",
    "Noah",
    "Emma",
    "Liam",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernández",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Thompson",
    "White",
    "Harris",
    "Clark",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Nguyen",
    "Kim",
    "Patel",
    "Shah",
    "Chen",
    "Wang",
    "Tanaka",
    "Sato",
    "Rossi",
    "Russo",
    "Ferrari",
    "Bianchi",
    "Dubois",
    "Lefèvre",
    "Moreau",
    "Müller",
    "Schmidt",
    "Fischer",
    "Kowalski",
    "Nowak",
    "Okafor",
    "Mensah",
    "Haddad",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Andersen",
    "Novak",
)
COMPANY_WORDS = (
    "Blue Ridge",
    "Summit",
    "Harbor",
    "Oakwood",
    "Riverside",
    "Golden Gate",
    "Maple",
    "Cedar",
    "Northstar",
    "Silver Lake",
    "Evergreen",
    "Pinecrest",
    "Lakeside",
    "Highland",
    "Redwood",
    "Brightside",
    "Ironwood",
    "Westfield",
    "Sunrise",
    "Clearwater",
)
TRADES = (
    "Bakery",
    "Plumbing",
    "Dental Group",
    "Consulting",
    "Landscaping",
    "Auto Repair",
    "Coffee Roasters",
    "Design Studio",
    "Law Office",
    "Construction",
    "Realty",
    "Veterinary Clinic",
    "Fitness",
    "Logistics",
    "Catering",
    "Architects",
    "Pharmacy",
    "Printing",
    "Electric",
    "Farms",
)
COMPANY_KINDS = ("LLC", "Inc.", "Ltd", "& Co.", "Partners", "Group", "")
DOMAINS = ("example.com", "example.org", "example.net")

# The shape of the data: shares of accounts and addresses (R1-R7 states all appear).
PERSON_ACCOUNTS = 0.45
ACCOUNTS_WITHOUT_CONTACTS = 0.02
TEST_CLIENTS = 0.01
SHARED_CONTACTS = 0.12  # a contact slot reuses a contact of a recent account
SECOND_ADDRESS = 0.15
INVALID_ADDRESS = 0.005
OFFLINE_ACCOUNTS = 0.25  # every access row has Login off
LOGIN_ON = 0.7  # on the other accounts, each access row
ACTIVATED = 0.45  # of addresses with Login on: activated; then invited (pending); else Later
INVITED = 0.30
BATCH_ACCOUNTS = 5_000
INSERT_CHUNK = 10_000

# Tables in the order their foreign keys allow.
_TABLES: tuple[type[SQLModel], ...] = (
    Account,
    Contact,
    ContactEmail,
    ContactPhone,
    AccountContact,
    AccountAssignment,
    AccessRow,
    PortalUser,
    Invitation,
)


@dataclass(frozen=True)
class SyntheticSummary:
    accounts: int
    contacts: int
    addresses: int
    access_rows: int
    portal_users: int
    invitations: int
    staff_created: tuple[Credentials, ...]
    client_password: str = SYNTHETIC_CLIENT_PASSWORD


def seed_accounts(
    session: Session, settings: Settings, count: int, seed: int, now: datetime | None = None
) -> SyntheticSummary:
    """N synthetic accounts, deterministic for a seed (but for ids, which continue after the
    existing data, timestamps relative to `now`, tokens and password hashes). Bulk INSERTs,
    then one refresh of every account's roll-ups."""
    if count < 0:
        raise ValueError("count must not be negative")
    created_staff = _ensure_team_members(session)
    firm = _SyntheticFirm(session, settings, seed, now or utcnow())
    with _large_page_cache(session), db.indexes_rebuilt_after(session):
        for start in range(0, count, BATCH_ACCOUNTS):
            firm.build(min(BATCH_ACCOUNTS, count - start))
            firm.write()
        # PostgreSQL plans the roll-up with what it knows of the rows just written (R39).
        db.refresh_statistics(session, [model.__table__.name for model in _TABLES])  # type: ignore[attr-defined]
        access.refresh_accounts(session, None)
    db.refresh_statistics(session, ["account"])  # its roll-ups and indexes are there now
    _sync_sequences(session)
    return SyntheticSummary(
        accounts=count,
        contacts=firm.totals[Contact],
        addresses=firm.totals[ContactEmail],
        access_rows=firm.totals[AccessRow],
        portal_users=firm.totals[PortalUser],
        invitations=firm.totals[Invitation],
        staff_created=created_staff,
    )


def _ensure_team_members(session: Session) -> tuple[Credentials, ...]:
    """Accounts need team members to be assigned to: create a few when there are none."""
    if staff.member_count(session) > 0:
        return ()
    (first_name, first_email), *others = SYNTHETIC_STAFF
    first = staff.create_team_member(session, first_email, first_name, SYNTHETIC_STAFF_PASSWORD)
    for name, email in others:
        # The same password, so the same Argon2id hash will do (one hash instead of five).
        address = staff.normalise_staff_email(email)
        session.add(TeamMember(email=address, name=name, password_hash=first.password_hash))
    session.flush()
    return tuple(
        Credentials(name, email, SYNTHETIC_STAFF_PASSWORD) for name, email in SYNTHETIC_STAFF
    )


def _ascii(name: str) -> str:
    """The name as it appears in an address: no accents, apostrophes or spaces."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


_ADDRESS_NAMES = {name: _ascii(name) for name in FIRST_NAMES + LAST_NAMES}


@dataclass
class _SyntheticFirm:
    """Builds rows batch by batch with one seeded random generator, so that a seed always gives
    the same firm. Ids are assigned here, continuing after the existing rows."""

    session: Session
    settings: Settings
    seed: int
    now: datetime
    rows: dict[type[SQLModel], list[tuple[Any, ...]]] = field(default_factory=dict)
    columns: dict[type[SQLModel], tuple[str, ...]] = field(default_factory=dict)
    totals: dict[type[SQLModel], int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.ttl = timedelta(hours=self.settings.invite_ttl_hours)
        self.next_id = {model: self._max_id(model) + 1 for model in _TABLES if _has_id(model)}
        query = select(TeamMember.id).order_by(TeamMember.id)
        self.member_ids = [member_id for member_id in self.session.scalars(query) if member_id]
        self.password_hash = hash_password(SYNTHETIC_CLIENT_PASSWORD)
        self.contact_ids: list[int] = []  # this run's contacts, for sharing
        self.emails_of: dict[int, list[int]] = {}
        self.invalid: set[int] = set()
        self.decided: set[int] = set()  # addresses whose portal state is already chosen
        self.address_of: dict[int, str] = {}
        self.rows = {model: [] for model in _TABLES}
        self.totals = {model: 0 for model in _TABLES}

    def _max_id(self, model: type[SQLModel]) -> int:
        table = model.__table__  # type: ignore[attr-defined]
        return self.session.scalar(select(func.max(table.c.id))) or 0

    def _id(self, model: type[SQLModel]) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def _add(self, model: type[SQLModel], **values: Any) -> None:
        """Keep one row as a tuple (less memory and time than a dict per row)."""
        names = self.columns.setdefault(model, tuple(values))
        if tuple(values) != names:
            raise ValueError(f"{model.__name__} rows must name the same columns in one order")
        self.rows[model].append(tuple(values.values()))

    def _days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def build(self, count: int) -> None:
        for _ in range(count):
            self._account()

    def write(self) -> None:
        """Insert this batch, table by table in foreign-key order, and forget it."""
        for model in _TABLES:
            rows = self.rows[model]
            names = self.columns.get(model, ())
            for start in range(0, len(rows), INSERT_CHUNK):
                _bulk_insert(self.session, model, names, rows[start : start + INSERT_CHUNK])
            self.totals[model] += len(rows)
            self.rows[model] = []

    def _account(self) -> None:
        rng = self.rng
        account_id = self._id(Account)
        created = self._days_ago(300, 2000)
        contact_ids: list[int] = []
        if rng.random() < PERSON_ACCOUNTS:
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            name = f"{first} {last}"
            contact_ids.append(self._new_contact(first, last, created))
        else:
            name = self._company_name()
        self._add(
            Account,
            id=account_id,
            name=name,
            is_test_client=rng.random() < TEST_CLIENTS,
            created_at=created,
            status=AccountStatus.NOT_ACTIVATED.value,
            has_login=False,
            has_notify=False,
            has_email_sync=False,
            contact_count=0,
            last_login_at=None,
            search_text="",
        )
        wanted = rng.choices((0, 1, 2, 3), (ACCOUNTS_WITHOUT_CONTACTS * 100, 30, 45, 25))[0]
        while len(contact_ids) < wanted:
            contact_ids.append(self._shared_or_new_contact(contact_ids, created))
        for contact_id in contact_ids:
            self._add(AccountContact, account_id=account_id, contact_id=contact_id)
        self._access_rows(account_id, contact_ids, created)
        if self.member_ids:
            assigned = rng.choices((0, 1, 2), (10, 70, 20))[0]
            for member_id in rng.sample(self.member_ids, min(assigned, len(self.member_ids))):
                self._add(AccountAssignment, account_id=account_id, team_member_id=member_id)

    def _company_name(self) -> str:
        rng = self.rng
        trade = rng.choice(TRADES)
        if rng.random() < 0.4:
            return f"{rng.choice(LAST_NAMES)} {trade}"
        kind = rng.choice(COMPANY_KINDS)
        return f"{rng.choice(COMPANY_WORDS)} {trade} {kind}".strip()

    def _shared_or_new_contact(self, taken: list[int], created: datetime) -> int:
        rng = self.rng
        if self.contact_ids and rng.random() < SHARED_CONTACTS:
            # A family member or a partner already on one of the last few hundred accounts.
            known = len(self.contact_ids)
            shared = self.contact_ids[rng.randrange(max(0, known - 500), known)]
            if shared not in taken:
                return shared
        return self._new_contact(rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES), created)

    def _new_contact(self, first: str, last: str, created: datetime) -> int:
        rng = self.rng
        contact_id = self._id(Contact)
        language = rng.choice(("fr", "es", "it")) if rng.random() < 0.08 else None
        self._add(
            Contact, id=contact_id, name=f"{first} {last}", language=language, created_at=created
        )
        local = f"{_ADDRESS_NAMES[first]}.{_ADDRESS_NAMES[last]}.{contact_id}"
        addresses = [f"{local}@{rng.choice(DOMAINS)}"]
        if rng.random() < SECOND_ADDRESS:
            addresses.append(f"{local}@mail.{rng.choice(DOMAINS)}")
        if rng.random() < INVALID_ADDRESS:
            addresses[0] = f"{local}@example"  # no top-level domain: wrong syntax (R22)
        self.emails_of[contact_id] = [self._address(contact_id, a, created) for a in addresses]
        if rng.random() < 0.4:
            number = f"+1 (555) {rng.randrange(200, 999)}-{rng.randrange(1000, 9999)}"
            self._add(ContactPhone, id=self._id(ContactPhone), contact_id=contact_id, number=number)
        self.contact_ids.append(contact_id)
        return contact_id

    def _address(self, contact_id: int, address: str, created: datetime) -> int:
        email_id = self._id(ContactEmail)
        problem = contacts.address_problem(address) if address.endswith("@example") else None
        if problem:
            self.invalid.add(email_id)
        self.address_of[email_id] = address
        self._add(
            ContactEmail,
            id=email_id,
            contact_id=contact_id,
            address=address,
            invalid_reason=problem,
            replaces_email_id=None,
            created_at=created,
        )
        return email_id

    def _access_rows(self, account_id: int, contact_ids: list[int], created: datetime) -> None:
        rng = self.rng
        email_ids = [email_id for c in contact_ids for email_id in self.emails_of[c]]
        offline = rng.random() < OFFLINE_ACCOUNTS
        logins = [not offline and rng.random() < LOGIN_ON for _ in email_ids]
        if email_ids and not offline and not any(logins):
            logins[0] = True
        for email_id, login in zip(email_ids, logins, strict=True):
            notify = login and rng.random() < 0.6
            self._add(
                AccessRow,
                id=self._id(AccessRow),
                account_id=account_id,
                email_id=email_id,
                login=login,
                notify=notify,
                email_sync=rng.random() < 0.3,
                signatory=rng.random() < 0.15,
                updated_at=created,
                **dict.fromkeys(NOTIFICATION_CATEGORIES, notify),
            )
            if login and email_id not in self.decided:
                self.decided.add(email_id)
                self._portal_state(email_id)

    def _portal_state(self, email_id: int) -> None:
        """Chosen when an address first gets Login on: activated, invited (Pending) or Later.
        Invalid addresses are never invited (R22)."""
        if email_id in self.invalid:
            return
        draw = self.rng.random()
        if draw < ACTIVATED:
            self._activated(email_id)
        elif draw < ACTIVATED + INVITED:
            sent = self._days_ago(0, 21)
            self._invitation(email_id, sent, InvitationState.OUTSTANDING, None)

    def _activated(self, email_id: int) -> None:
        last_login = self._days_ago(0, 90)
        activated = last_login - timedelta(days=self.rng.uniform(0, 200))
        self._add(
            PortalUser,
            id=self._id(PortalUser),
            email_id=email_id,
            password_hash=self.password_hash,
            activated_at=activated,
            last_login_at=last_login,
        )
        sent = activated - min(self.ttl, timedelta(days=3)) * self.rng.uniform(0, 0.9)
        self._invitation(email_id, sent, InvitationState.ACCEPTED, activated)

    def _invitation(
        self, email_id: int, sent: datetime, state: InvitationState, accepted: datetime | None
    ) -> None:
        inviter = self.rng.choice(self.member_ids) if self.member_ids else None
        self._add(
            Invitation,
            id=self._id(Invitation),
            email_id=email_id,
            address=self.address_of[email_id],
            token_hash=hash_token(new_token()),
            message="",
            state=state.value,
            invited_by_member_id=inviter,
            invited_by_portal_user_id=None,
            requested_by_client=False,
            outbox_id=None,
            created_at=sent,
            expires_at=sent + self.ttl,
            accepted_at=accepted,
            cancelled_at=None,
            superseded_at=None,
        )


def _bulk_insert(
    session: Session, model: type[SQLModel], names: tuple[str, ...], rows: list[tuple[Any, ...]]
) -> None:
    """One executemany of the driver (SQLAlchemy's per-row parameter handling took three
    quarters of the time of 100,000 accounts)."""
    if rows:
        table = model.__table__  # type: ignore[attr-defined]
        insert_columns(session, table, dict(zip(names, zip(*rows, strict=True), strict=True)))


@contextmanager
def _large_page_cache(session: Session) -> Iterator[None]:
    """SQLite: a page cache of up to 256 MB while the indexes grow (the default 2 MB made
    the inserts and the roll-up refresh of 100,000 accounts about 15% slower)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    previous = session.execute(text("PRAGMA cache_size")).scalar_one()
    session.execute(text("PRAGMA cache_size = -262144"))
    try:
        yield
    finally:
        with suppress(SQLAlchemyError):  # a failed transaction must keep its own error
            session.execute(text(f"PRAGMA cache_size = {int(previous)}"))


def _has_id(model: type[SQLModel]) -> bool:
    return "id" in model.__table__.c  # type: ignore[attr-defined]


def _sync_sequences(session: Session) -> None:
    """PostgreSQL: explicit ids do not move the id sequences, so move them past the new rows."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in _TABLES:
        if not _has_id(model):
            continue
        table = model.__table__  # type: ignore[attr-defined]
        session.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1))"
            )
        )
