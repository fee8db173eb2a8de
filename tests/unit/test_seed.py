"""Sample data: the demo firm and the synthetic data sets (CONTRACT.md `portal-ui seed`)."""

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import bindparam, func, select, text
from sqlmodel import Session, col

from portal_ui import access, contacts, seed, staff
from portal_ui.config import Settings, load_settings
from portal_ui.db import make_engine
from portal_ui.errors import DatabaseNotEmpty
from portal_ui.models import (
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    AccountStatus,
    ContactEmail,
    Invitation,
    InvitationState,
    OutboxMessage,
    PortalUser,
)
from portal_ui.security import verify_password
from tests.databases import Databases

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
# Columns that differ between two runs with the same seed on purpose: secrets are random.
RANDOM_COLUMNS = {"token_hash", "password_hash"}
SYNTHETIC_TABLES = (
    Account, AccountContact, AccountAssignment, ContactEmail, AccessRow, PortalUser, Invitation,
)  # fmt: skip


IS_INVALID = col(ContactEmail.invalid_reason).is_not(None)


def fresh_session(databases: Databases) -> Session:
    """A session on a new database of the test's kind (R39), with the models' schema."""
    return Session(make_engine(databases.url()), expire_on_commit=False)


def snapshot(session: Session) -> dict[str, list[tuple]]:
    """Every row of the synthetic tables, without the random secrets, in key order."""
    tables = {}
    for model in SYNTHETIC_TABLES:
        table = model.__table__
        columns = [c for c in table.c if c.name not in RANDOM_COLUMNS]
        query = select(*columns).order_by(*table.primary_key.columns)
        tables[table.name] = [tuple(row) for row in session.execute(query)]
    return tables


def statuses(session: Session) -> Counter:
    return Counter(AccountStatus(s) for s in session.scalars(select(Account.status)))


def recomputed_status(session: Session, account_id: int) -> AccountStatus:
    """R7 from the rows themselves, in Python, to check the cached roll-up against."""
    rows = session.scalars(
        select(AccessRow).where(AccessRow.account_id == account_id, AccessRow.login)
    ).all()
    activated = set(session.scalars(select(PortalUser.email_id)))
    invited = set(
        session.scalars(
            select(Invitation.email_id).where(Invitation.state == InvitationState.OUTSTANDING)
        )
    )
    if any(row.email_id in activated for row in rows):
        return AccountStatus.ACTIVATED
    if any(row.email_id in invited for row in rows):
        return AccountStatus.PENDING
    return AccountStatus.NOT_ACTIVATED


# -- the demo firm ---------------------------------------------------------------------------------


def module_settings(session: Session, databases: Databases) -> Settings:
    return load_settings(
        database_url=session.get_bind().url.render_as_string(hide_password=False),
        data_dir=str(databases.folder),
        base_url="http://portal.test",
        smtp_host="127.0.0.1",
    )


@pytest.fixture(scope="module")
def demo_db(module_databases) -> Iterator[tuple[Session, seed.DemoSummary]]:
    """One demo firm for the tests that only read it (it takes a few Argon2id hashes)."""
    with fresh_session(module_databases) as session:
        summary = seed.seed_demo(session, module_settings(session, module_databases), now=NOW)
        session.commit()
        yield session, summary


@pytest.fixture
def demo(demo_db) -> seed.DemoSummary:
    return demo_db[1]


@pytest.fixture
def demo_session(demo_db) -> Session:
    return demo_db[0]


def test_the_demo_has_about_a_dozen_accounts_in_each_status(demo_session, demo):  # R7
    counts = statuses(demo_session)
    assert 10 <= sum(counts.values()) <= 15
    assert set(counts) == set(AccountStatus)


def test_the_demo_has_one_test_client(demo_session, demo):  # R4
    assert demo_session.scalar(select(func.count()).where(Account.is_test_client)) == 1


def test_the_demo_has_one_invalid_address_that_got_no_invitation(demo_session, demo):  # R22
    invalid = demo_session.scalars(select(ContactEmail).where(IS_INVALID)).all()
    assert len(invalid) == 1
    sent = demo_session.scalars(
        select(Invitation).where(Invitation.email_id == invalid[0].id)
    ).all()
    assert sent == []


def test_the_demo_has_a_contact_with_two_addresses_and_a_contact_on_several_accounts(
    demo_session, demo
):  # R1
    per_contact = Counter(demo_session.scalars(select(ContactEmail.contact_id)))
    assert max(per_contact.values()) == 2
    per_link = Counter(demo_session.scalars(select(AccountContact.contact_id)))
    assert max(per_link.values()) >= 2


def test_the_demo_has_an_address_with_login_on_and_no_invitation_yet(
    demo_session, demo
):  # R9 Later
    invited = select(Invitation.email_id).where(Invitation.state == InvitationState.OUTSTANDING)
    later = demo_session.scalars(
        select(AccessRow.id).where(
            AccessRow.login,
            ~AccessRow.email_id.in_(select(PortalUser.email_id)),
            ~AccessRow.email_id.in_(invited),
            ~AccessRow.email_id.in_(select(ContactEmail.id).where(IS_INVALID)),
        )
    ).all()
    assert later


def test_every_demo_account_has_an_assigned_team_member(demo_session, demo):  # R5
    assigned = set(demo_session.scalars(select(AccountAssignment.account_id)))
    assert assigned == set(demo_session.scalars(select(Account.id)))


def test_the_printed_demo_sign_ins_work(demo_session, demo):  # R17
    for member in demo.staff:
        assert staff.authenticate(demo_session, member.email, member.password) is not None
    assert demo.clients
    for client in demo.clients:
        user = demo_session.scalars(
            select(PortalUser)
            .join(ContactEmail, ContactEmail.id == PortalUser.email_id)
            .where(ContactEmail.address == client.email)
        ).one()
        assert verify_password(user.password_hash, client.password)


def test_demo_invitations_go_through_the_outbox(demo_session, demo):  # R22a
    invitations = demo_session.scalars(select(Invitation)).all()
    assert invitations
    assert all(invitation.outbox_id for invitation in invitations)
    assert demo_session.scalar(select(func.count(OutboxMessage.id))) >= len(invitations)


def test_the_demo_goes_only_into_an_empty_database(demo_session, settings, demo):
    with pytest.raises(DatabaseNotEmpty):
        seed.seed_demo(demo_session, settings)


def test_the_demo_ignores_the_dns_check(session, settings):  # R22: fictional domains
    seed.seed_demo(session, settings.model_copy(update={"check_dns": True}), now=NOW)
    invalid = session.scalar(select(func.count()).where(IS_INVALID))
    assert invalid == 1


# -- synthetic data --------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_data(databases, settings):
    first, second = fresh_session(databases), fresh_session(databases)
    seed.seed_accounts(first, settings, 300, seed=7, now=NOW)
    seed.seed_accounts(second, settings, 300, seed=7, now=NOW)
    assert snapshot(first) == snapshot(second)


def test_another_seed_gives_other_data(databases, settings):
    first, second = fresh_session(databases), fresh_session(databases)
    seed.seed_accounts(first, settings, 300, seed=7, now=NOW)
    seed.seed_accounts(second, settings, 300, seed=8, now=NOW)
    assert snapshot(first) != snapshot(second)


@pytest.fixture(scope="module")
def synthetic_db(module_databases) -> Iterator[tuple[Session, seed.SyntheticSummary]]:
    """One synthetic firm for the tests that only read it."""
    with fresh_session(module_databases) as session:
        settings = module_settings(session, module_databases)
        summary = seed.seed_accounts(session, settings, 1500, seed=3, now=NOW)
        session.commit()
        yield session, summary


@pytest.fixture
def synthetic(synthetic_db) -> seed.SyntheticSummary:
    return synthetic_db[1]


@pytest.fixture
def synthetic_session(synthetic_db) -> Session:
    return synthetic_db[0]


def test_synthetic_accounts_have_about_two_contacts_some_shared_some_with_two_addresses(
    synthetic_session, synthetic
):  # R1
    links = synthetic_session.scalar(select(func.count()).select_from(AccountContact))
    assert 1.6 <= links / synthetic.accounts <= 2.4
    assert max(Counter(synthetic_session.scalars(select(AccountContact.contact_id))).values()) >= 2
    assert max(Counter(synthetic_session.scalars(select(ContactEmail.contact_id))).values()) == 2
    assert synthetic.contacts < links  # shared contacts


def test_synthetic_statuses_are_mixed_with_test_clients(synthetic_session, synthetic):  # R4 R7
    counts = statuses(synthetic_session)
    assert all(counts[status] >= synthetic.accounts // 10 for status in AccountStatus)
    assert synthetic_session.scalar(select(func.count()).where(Account.is_test_client)) > 0


def test_synthetic_last_logins_are_spread_over_the_last_90_days(
    synthetic_session, synthetic
):  # R24
    logins = [t for t in synthetic_session.scalars(select(Account.last_login_at)) if t is not None]
    assert min(logins) >= NOW - timedelta(days=90)
    assert max(logins) <= NOW
    assert any(t > NOW - timedelta(days=7) for t in logins)
    assert any(t < NOW - timedelta(days=30) for t in logins)


def test_synthetic_invitations_follow_the_rules(synthetic_session, synthetic):  # R14 R22
    outstanding = synthetic_session.scalars(
        select(Invitation).where(Invitation.state == InvitationState.OUTSTANDING)
    ).all()
    assert len({i.email_id for i in outstanding}) == len(outstanding)  # one per address
    activated = set(synthetic_session.scalars(select(PortalUser.email_id)))
    with_login = set(synthetic_session.scalars(select(AccessRow.email_id).where(AccessRow.login)))
    invalid = set(synthetic_session.scalars(select(ContactEmail.id).where(IS_INVALID)))
    assert invalid
    for invitation in outstanding:
        assert invitation.email_id in with_login
        assert invitation.email_id not in activated | invalid
    invited = set(synthetic_session.scalars(select(Invitation.email_id)))
    assert not invited & invalid


def test_synthetic_roll_ups_match_a_fresh_refresh_and_the_rule(
    synthetic_session, synthetic
):  # R7 R23
    def rollups() -> list[tuple]:
        query = select(
            Account.id, Account.status, Account.has_login, Account.has_notify,
            Account.has_email_sync, Account.contact_count, Account.last_login_at,
            Account.search_text,
        ).order_by(Account.id)  # fmt: skip
        return [tuple(row) for row in synthetic_session.execute(query)]

    before = rollups()
    access.refresh_accounts(synthetic_session, None)
    synthetic_session.commit()
    assert rollups() == before
    for account_id, status, *_ in before[:300]:
        assert status == recomputed_status(synthetic_session, account_id)


def test_synthetic_clients_sign_in_with_the_printed_password(synthetic_session, synthetic):  # R17
    user = synthetic_session.scalars(select(PortalUser)).first()
    assert verify_password(user.password_hash, synthetic.client_password)


def test_synthetic_data_creates_team_members_only_when_there_are_none(
    synthetic_session, synthetic
):  # R5
    assert synthetic.staff_created
    member = synthetic.staff_created[0]
    assert staff.authenticate(synthetic_session, member.email, member.password) is not None
    assigned = synthetic_session.scalar(select(func.count()).select_from(AccountAssignment))
    assert assigned > 0


def test_synthetic_data_adds_to_existing_data(session, settings):
    seed.seed_demo(session, settings, now=NOW)
    before = session.scalar(select(func.max(Account.id)))
    summary = seed.seed_accounts(session, settings, 200, seed=1, now=NOW)
    session.commit()
    assert summary.staff_created == ()
    assert session.scalar(select(func.count(Account.id))) == before + 200
    # The services keep working after the explicit ids.
    account = contacts.create_account(session, "After the seed")
    contact = contacts.create_contact(
        session, settings, "New Person", addresses=["new@example.com"]
    )
    session.commit()
    assert account.id == before + 201
    assert contact.id is not None
    demo_account = session.scalars(select(Account).where(Account.name == "Tom Hartley")).one()
    assert demo_account.status == AccountStatus.ACTIVATED


@pytest.mark.only_on("postgresql", reason="SQLite's planner keeps no row statistics to go stale")
def test_the_seed_leaves_the_planner_statistics_of_what_it_wrote(session, settings):  # R39
    # Without them PostgreSQL planned the roll-up of 100,000 new accounts for 47 and ran for
    # more than ten minutes; the indexes dropped for the writes are all back.
    indexes = "SELECT count(*) FROM pg_indexes WHERE tablename = 'account'"
    before = session.execute(text(indexes)).scalar_one()
    seed.seed_accounts(session, settings, 300, seed=2, now=NOW)
    estimates = dict(
        session.execute(
            text("SELECT relname, reltuples FROM pg_class WHERE relname IN :names").bindparams(
                bindparam("names", expanding=True)
            ),
            {"names": ["account", "access_row", "contact_email", "portal_user"]},
        ).all()
    )
    session.commit()
    assert estimates["account"] == 300
    assert all(rows > 0 for rows in estimates.values()), estimates
    assert session.execute(text(indexes)).scalar_one() == before
