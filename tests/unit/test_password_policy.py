"""The password policy: guessable passwords refused with zxcvbn's reason and hint, in the
reader's language (R17, R38a)."""

import ast
from pathlib import Path

import pytest
import zxcvbn

from portal_ui import password_strength, seed, staff
from portal_ui.i18n import translator
from portal_ui.password_strength import FEEDBACK, GENERIC_HINT, GENERIC_WARNING
from portal_ui.security import (
    GUESSABLE,
    TOO_LONG,
    TOO_SHORT,
    PasswordRejected,
    check_password,
    review_password,
)
from tests.unit.test_cli import assert_one_line_error, database, open_session, run  # noqa: F401

ZXCVBN_FEEDBACK = Path(zxcvbn.__file__).with_name("feedback.py")


def _zxcvbn_sentences() -> set[str]:
    """Every string zxcvbn's feedback.py passes to gettext (its `_`)."""
    tree = ast.parse(ZXCVBN_FEEDBACK.read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_"
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.mark.parametrize("password", ["P@ssw0rd123", "Summer2024!", "Password2024"])
def test_a_guessable_password_is_refused_with_zxcvbns_reason_and_hint(password):  # R38a
    with pytest.raises(PasswordRejected) as refused:
        check_password(password, "anna@example.com")
    assert refused.value.reason == FEEDBACK["This is similar to a commonly used password."]
    assert FEEDBACK["Add another word or two. Uncommon words are better."] in refused.value.advice


def test_the_local_part_of_the_address_repeated_is_refused():  # R38a
    with pytest.raises(PasswordRejected) as refused:
        check_password("xss1xss1xss1", "xss1@example.com")
    assert "Repeats" in refused.value.reason
    assert FEEDBACK["Avoid repeated words and characters."] in refused.value.advice


def test_the_firm_name_is_known_to_attackers_too():  # R38a
    assert review_password("TestFirm2024!", "anna@example.com").problems == ()
    review = review_password("TestFirm2024!", "anna@example.com", "Test Firm")
    assert review.problems == (GUESSABLE,)
    assert review.warning == password_strength.PERSONAL_WARNING


@pytest.mark.parametrize("password", ["Quiet-Harbour-42", "Blue-Otter-Sings-77"])
def test_a_passphrase_is_accepted(password):  # R38a
    assert review_password(password, "xss1@example.com", "Test Firm").problems == ()
    check_password(password, "xss1@example.com", "Test Firm")


def test_every_rule_broken_is_listed_for_the_live_check():  # R17 R38a
    review = review_password("short", "anna@example.com")
    assert review.problems == (TOO_SHORT, GUESSABLE)
    assert review.warning and review.suggestions
    assert review_password("Quiet-Harbour-42" * 9).problems == (TOO_LONG,)  # R38


def test_every_sentence_of_zxcvbn_has_a_message_id_of_ours():  # R38a
    sentences = _zxcvbn_sentences()
    assert len(sentences) >= 27  # the parse found zxcvbn's sentences, not nothing
    assert sorted(sentences - set(FEEDBACK)) == []


@pytest.mark.parametrize("language", ["fr", "es", "it"])
def test_zxcvbns_feedback_is_shown_in_the_readers_language(language):  # R38a
    _ = translator(language)
    untranslated = [ours for ours in (*FEEDBACK.values(), GENERIC_HINT) if _(ours) == ours]
    assert untranslated == []
    with pytest.raises(PasswordRejected) as refused:
        check_password("Summer2024!")
    described = refused.value.describe(_)
    assert described == " ".join(_(text) for text in (refused.value.reason, *refused.value.advice))
    assert "commonly" not in described


def test_an_unknown_zxcvbn_sentence_falls_back_to_ours(monkeypatch):  # R38a
    def newer_zxcvbn(password, user_inputs):
        feedback = {"warning": "A sentence of a later zxcvbn.", "suggestions": ["Another one."]}
        return {"score": 1, "feedback": feedback, "sequence": []}

    monkeypatch.setattr(password_strength, "zxcvbn", newer_zxcvbn)
    strength = password_strength.estimate("Anything-Long-1")
    assert (strength.warning, strength.suggestions) == (GENERIC_WARNING, (GENERIC_HINT,))


def test_a_guessable_staff_password_is_refused(session):  # R38a
    with pytest.raises(PasswordRejected):
        staff.create_team_member(session, "anna@example.com", "Anna", "Summer2024!")
    assert staff.member_count(session) == 0


def test_create_staff_refuses_a_guessable_password_on_one_line(database, capsys):  # noqa: F811
    # R38a
    code, _, err = run(
        capsys, "create-staff", "--email", "anna@example.com", "--name", "Anna",
        "--password", "P@ssw0rd123",
    )  # fmt: skip
    assert_one_line_error(code, err, "similar to a commonly used password", "Add another word")
    with open_session(database) as session:
        assert staff.member_count(session) == 0


def test_the_demo_and_synthetic_passwords_meet_the_policy():  # R38a
    for member in seed.DEMO_STAFF:
        check_password(member.password, member.email, "Demo Firm")
    for address in ("tom.hartley@example.com", "priya.shah@example.com"):
        check_password(seed.DEMO_CLIENT_PASSWORD, address, "Demo Firm")
    check_password(seed.SYNTHETIC_CLIENT_PASSWORD, "ada.lovelace.1@example.com")
    check_password(seed.SYNTHETIC_STAFF_PASSWORD, "staff@firm.test")
