"""Team members: creation with the password policy, sign-in, and their saved choices."""

import time

import pytest

from portal_ui import staff
from portal_ui.errors import DomainError, InvalidAddress, NotFound, StaffExists, UnknownLanguage
from portal_ui.models import TeamMember
from portal_ui.security import PasswordRejected

PASSWORD = "quiet-harbour-lamp"


def test_a_team_member_is_stored_with_a_normalised_address_and_an_argon2id_hash(session):  # R17
    member = staff.create_team_member(
        session, "  Anna.Keller@Example.COM ", " Anna Keller ", PASSWORD
    )
    session.commit()
    stored = session.get(TeamMember, member.id)
    assert stored.email == "anna.keller@example.com"
    assert stored.name == "Anna Keller"
    assert stored.password_hash.startswith("$argon2id$")
    assert PASSWORD not in stored.password_hash


def test_an_address_already_used_by_a_team_member_is_refused_whatever_its_case(session):  # R1
    staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)
    with pytest.raises(StaffExists):
        staff.create_team_member(session, "ANNA@example.com", "Another Anna", PASSWORD)


@pytest.mark.parametrize("address", ["anna", "anna@example", "jon@@example.com", ""])
def test_an_address_with_a_wrong_syntax_is_refused(session, address):  # R22
    with pytest.raises(InvalidAddress):
        staff.create_team_member(session, address, "Anna", PASSWORD)


@pytest.mark.parametrize("password", ["short-pw", "password1234", "anna.keller"])
def test_a_password_breaking_the_policy_is_refused(session, password):  # R17
    with pytest.raises(PasswordRejected):
        staff.create_team_member(session, "anna.keller@example.com", "Anna", password)
    assert staff.member_count(session) == 0


def test_a_team_member_needs_a_name(session):
    with pytest.raises(DomainError):
        staff.create_team_member(session, "anna@example.com", "   ", PASSWORD)


def test_sign_in_accepts_the_right_password_whatever_the_address_case(session):
    member = staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)
    assert staff.authenticate(session, " Anna@Example.com", PASSWORD) == member


def test_sign_in_refuses_a_wrong_password_an_unknown_address_and_a_malformed_one(session):
    staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)
    assert staff.authenticate(session, "anna@example.com", PASSWORD + "x") is None
    assert staff.authenticate(session, "nobody@example.com", PASSWORD) is None
    assert staff.authenticate(session, "not an address", PASSWORD) is None


def test_an_unknown_address_costs_a_password_verification_like_a_known_one(session):
    # Timing must not reveal whether a team member exists: both paths run Argon2id once.
    staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)

    def fastest(address: str) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            staff.authenticate(session, address, "wrong-password-here")
            times.append(time.perf_counter() - started)
        return min(times)

    known, unknown = fastest("anna@example.com"), fastest("nobody@example.com")
    assert unknown > known / 3


def test_a_team_member_chooses_a_language_among_the_four(session):  # R31a
    member = staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)
    staff.set_language(session, member.id, "fr")
    session.commit()
    assert session.get(TeamMember, member.id).language == "fr"
    with pytest.raises(UnknownLanguage):
        staff.set_language(session, member.id, "de")


def test_hidden_columns_are_remembered_per_team_member(session, engine):  # R23
    anna = staff.create_team_member(session, "anna@example.com", "Anna", PASSWORD)
    ben = staff.create_team_member(session, "ben@example.com", "Ben", PASSWORD)
    staff.set_hidden_columns(session, anna.id, ["notify", "email_sync", "notify", " "])
    session.commit()
    staff.set_hidden_columns(session, anna.id, ["last_login"])
    session.commit()
    session.expire_all()
    assert session.get(TeamMember, anna.id).hidden_columns == ["last_login"]
    assert session.get(TeamMember, ben.id).hidden_columns == []


def test_choices_of_a_missing_team_member_raise_not_found(session):
    with pytest.raises(NotFound):
        staff.set_hidden_columns(session, 999, ["notify"])


def test_team_members_are_listed_by_name(session):  # R5
    for name in ("Chloé Martin", "Anna Keller", "Ben Ortiz"):
        staff.create_team_member(session, f"{name.split()[0].lower()}@example.com", name, PASSWORD)
    assert [m.name for m in staff.list_members(session)] == [
        "Anna Keller",
        "Ben Ortiz",
        "Chloé Martin",
    ]
