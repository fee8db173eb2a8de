"""The activity feed (/activity): R30."""

from __future__ import annotations

from datetime import timedelta

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import select
from sqlmodel import Session

from portal_ui import access_rows, contacts, invitations
from portal_ui.activity import Actor
from portal_ui.clock import utcnow
from portal_ui.config import Settings
from portal_ui.models import ContactEmail
from tests.factories import make_member
from tests.ui.staff_session import arrange, see, sign_in, until

ANNA = "anna@bakery.example.com"
CARL = "carl@cafe.example.com"


def two_accounts(session: Session, settings: Settings) -> dict[str, int]:
    """Greta turns Login on and sends for Anna (Bakery) and Carl (Cafe); Anna activates."""
    greta = make_member(session, name="Greta Sender")
    actor = Actor(name=greta.name, member_id=greta.id)
    ids: dict[str, int] = {"greta": greta.id or 0}
    moment = utcnow() - timedelta(hours=1)
    for name, address in (("Bakery", ANNA), ("Cafe", CARL)):
        account = contacts.create_account(session, name)
        contact = contacts.create_contact(session, settings, name + " owner", addresses=[address])
        contacts.link_contact(session, account.id, contact.id)
        access_rows.set_login(
            session, settings, account.id, contact_email(session, address), True, actor,
            send_invitation=True, now=moment,
        )  # fmt: skip
        ids[name] = account.id or 0
        moment += timedelta(minutes=1)
    return ids


def contact_email(session: Session, address: str) -> int:
    query = select(ContactEmail.id).where(ContactEmail.address == address)
    return session.scalars(query).one()


def table(user: User) -> ui.table:
    (found,) = user.find(marker="activity-table").elements
    return found


def whats(user: User) -> list[str]:
    return [row["what"] for row in table(user).rows]


async def test_the_feed_shows_time_actor_account_address_and_what_newest_first(
    user, ui_engine, ui_settings
):
    # R30
    arrange(ui_engine, ui_settings, two_accounts)
    await sign_in(user, "/activity")
    await until(lambda: table(user).rows)

    rows = table(user).rows
    assert [row["what"] for row in rows[:2]] == ["Invitation sent", "Login turned on"]
    newest = rows[0]
    assert newest["actor"] == "Greta Sender"
    assert newest["address"] == CARL
    assert rows[1]["account"] == "Cafe"
    assert newest["at"].endswith("UTC")
    assert table(user).pagination["rowsNumber"] == len(rows) == 4


async def test_filter_by_account(user, ui_engine, ui_settings):
    # R30
    ids = arrange(ui_engine, ui_settings, two_accounts)
    await sign_in(user, "/activity")
    await until(lambda: len(table(user).rows) == 4)
    (account_filter,) = user.find(marker="filter-account").elements
    with user:
        account_filter.value = ids["Bakery"]

    await until(lambda: whats(user) == ["Invitation sent", "Login turned on"])
    assert {row["account"] for row in table(user).rows} == {"Bakery"}
    assert {row["address"] for row in table(user).rows} == {ANNA}


async def test_an_account_filter_in_the_address_applies_on_open(user, ui_engine, ui_settings):
    # R30: the profile's "Activity" link
    ids = arrange(ui_engine, ui_settings, two_accounts)
    await sign_in(user, f"/activity?account={ids['Cafe']}")

    await until(lambda: table(user).rows)
    assert {row["address"] for row in table(user).rows} == {CARL}


async def test_filter_by_actor_team_member_or_client(user, ui_engine, ui_settings):
    # R30
    def accepted(session: Session, settings: Settings) -> dict[str, int]:
        ids = two_accounts(session, settings)
        email_id = contact_email(session, ANNA)
        issued = invitations.send_invitation(session, settings, email_id, Actor(name="Greta"))
        user_ = invitations.activate(
            session, settings, issued.link.rsplit("/", 1)[1], "correct horse 1 2"
        )
        ids["client"] = user_.id or 0
        return ids

    ids = arrange(ui_engine, ui_settings, accepted)
    await sign_in(user, "/activity")
    await until(lambda: table(user).rows)
    (actor_filter,) = user.find(marker="filter-actor").elements
    assert f"client:{ids['client']}" in actor_filter.options
    with user:
        actor_filter.value = f"client:{ids['client']}"
    await until(lambda: whats(user) == ["Invitation accepted: portal access activated"])
    assert table(user).rows[0]["actor"] == f"{ANNA} (client)"

    with user:
        actor_filter.value = f"member:{ids['greta']}"
    await until(lambda: len(table(user).rows) == 4)
    assert {row["actor"] for row in table(user).rows} == {"Greta Sender"}


async def test_the_feed_is_paged_by_the_database(user, ui_engine, ui_settings):
    # R30, R24's paging rule
    def many(session: Session, settings: Settings) -> None:
        account = contacts.create_account(session, "Busy Co")
        contact = contacts.create_contact(session, settings, "Busy", addresses=[ANNA])
        contacts.link_contact(session, account.id, contact.id)
        email_id = contact_email(session, ANNA)
        for index in range(30):
            access_rows.set_switch(
                session, account.id, email_id, "notify", index % 2 == 0, Actor(name="Bulk")
            )

    arrange(ui_engine, ui_settings, many)
    await sign_in(user, "/activity")
    await until(lambda: table(user).rows)
    assert len(table(user).rows) == 25
    assert table(user).pagination["rowsNumber"] == 30

    user.find(marker="activity-table").trigger(
        "request", {"pagination": {"page": 2, "rowsPerPage": 25}}
    )
    await until(lambda: table(user).pagination["page"] == 2)
    assert len(table(user).rows) == 5


async def test_new_activity_appears_without_reload(user, ui_engine, ui_settings):
    # R30: live, no polling
    ids = arrange(ui_engine, ui_settings, two_accounts)
    await sign_in(user, "/activity")
    await until(lambda: len(table(user).rows) == 4)
    with Session(ui_engine) as session:
        access_rows.set_switch(
            session, ids["Bakery"], contact_email(session, ANNA), "signatory", True,
            Actor(name="Hana Live"),
        )  # fmt: skip
        session.commit()

    await until(lambda: whats(user)[:1] == ["Signatory turned on"])
    await see(user, marker="activity-table")
    assert table(user).rows[0]["actor"] == "Hana Live"


async def test_the_actor_filter_searches_team_members_by_name(user, ui_engine, ui_settings):
    # R30
    def with_other(session: Session, settings: Settings) -> dict[str, int]:
        make_member(session, name="Otto Other")
        return two_accounts(session, settings)

    arrange(ui_engine, ui_settings, with_other)
    await sign_in(user, "/activity")
    (actor_filter,) = user.find(marker="filter-actor").elements
    assert {"Greta Sender", "Otto Other"} <= set(actor_filter.options.values())
    user.find(marker="filter-actor").trigger("inputValue", "gret")

    await until(lambda: list(actor_filter.options.values()) == ["Greta Sender"])
