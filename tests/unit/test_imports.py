"""The CSV import (R32): files as people export them, the mapping, the preview, the job, its
report and its idempotence, written as real files by the tests themselves."""

from __future__ import annotations

import codecs
from datetime import timedelta
from email import parser as email_parser
from email import policy as email_policy
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal_ui import access_rows, activity, contacts, import_files, imports, invitations, jobs
from portal_ui.clock import utcnow
from portal_ui.errors import InvalidAddress, InvalidPhone
from portal_ui.i18n import translator
from portal_ui.import_files import ImportField, ImportFileError
from portal_ui.imports import ImportOptions
from portal_ui.mail import outbox
from portal_ui.models import (
    NOTIFICATION_CATEGORIES,
    AccessRow,
    Account,
    AccountAssignment,
    AccountContact,
    ActivityEvent,
    BulkJob,
    Contact,
    ContactEmail,
    ContactPhone,
    InboxNotification,
    Invitation,
    InvitationState,
    JobState,
    OutboxMessage,
)
from tests.factories import actor_for, make_member

HEADER = (
    "Account ID,Account name,Contact name,Email,Phone,Language,Login,Notify,Email sync,Signatory"
)


@pytest.fixture
def member(session):
    member = make_member(session, name="Alice Staff")
    member.email = "alice@firm.test"
    session.commit()
    return member


def csv_file(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "clients.csv") -> Path:
    """A real file as a spreadsheet writes it (CRLF unless the text says otherwise)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def read(path: Path) -> import_files.CsvFile:
    return import_files.read_csv(path.read_bytes(), path.name)


def options(file, send=False, message="", **remap) -> ImportOptions:
    mapping = list(import_files.guess_mapping(file.headers))
    for header, field in remap.items():
        mapping[file.headers.index(header)] = field
    return ImportOptions(tuple(mapping), send, message)


def run_import(session, engine, settings, member, file, chosen=None, **job_options):
    """Queue and run the job as the page does: commit, then run it outside the session."""
    job = imports.start_job(session, member.id, file, chosen or options(file))
    session.commit()
    report = imports.run_job(engine, settings, job.id, **job_options)
    session.expire_all()
    return report


def account_named(session, name) -> Account:
    return session.scalars(select(Account).where(Account.name == name)).one()


def email(session, address) -> ContactEmail:
    return session.scalars(select(ContactEmail).where(ContactEmail.address == address)).one()


def row_of(session, account_name, address) -> AccessRow:
    return session.scalars(
        select(AccessRow).where(
            AccessRow.account_id == account_named(session, account_name).id,
            AccessRow.email_id == email(session, address).id,
        )
    ).one()


def outbox_addresses(session) -> list[str]:
    return sorted(session.scalars(select(OutboxMessage.to_address)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def snapshot(session) -> dict:
    """Every row the import writes, as plain values (ids, names, switches, links)."""
    tables = (Account, AccountAssignment, AccountContact, Contact, ContactEmail, ContactPhone,
              AccessRow, Invitation, OutboxMessage)  # fmt: skip
    found = {}
    for model in tables:
        rows = session.scalars(select(model)).all()
        found[model.__name__] = sorted(
            tuple(sorted((k, str(v)) for k, v in row.model_dump().items())) for row in rows
        )
    return found


def failures(report) -> dict[int, str]:
    """The failing rows by line, each reason in English with its values."""
    english = translator("en")
    return {f["line"]: activity.row_failure_reason(f, english) for f in report["failures"]}


# -- files as they come (R32) ------------------------------------------------------------------


def test_a_utf8_file_with_a_byte_order_mark_reads_its_first_header(tmp_path):  # R32
    path = csv_file(tmp_path, "\ufeffAccount name,Email\r\nÉcole Lumière,anne@ecole.fr\r\n")
    file = read(path)
    assert file.encoding == "utf-8-sig"
    assert file.headers == ("Account name", "Email")
    assert import_files.guess_mapping(file.headers) == (
        ImportField.ACCOUNT_NAME, ImportField.EMAIL,
    )  # fmt: skip
    assert import_files.sample(file, import_files.guess_mapping(file.headers)) == [
        {ImportField.ACCOUNT_NAME: "École Lumière", ImportField.EMAIL: "anne@ecole.fr"}
    ]


def test_a_windows_1252_semicolon_file_with_french_headers_is_read(
    tmp_path, session, engine, settings, member
):  # R32
    text = (
        "Nom du compte;Prénom;Nom;Adresse e-mail;Téléphone;Langue;Connexion;Notifier;"
        "Synchronisation des e-mails;Signataire;Client de test\r\n"
        "Société Générale d'Études;Émile;Bézier;emile@etudes.fr;+33 1 23 45 67 89;Français;"
        "oui;non;non;oui;non\r\n"
    )
    path = csv_file(tmp_path, text, encoding="cp1252")
    assert not path.read_bytes().startswith(codecs.BOM_UTF8)
    file = read(path)
    assert (file.encoding, file.delimiter) == ("windows-1252", ";")
    assert None not in import_files.guess_mapping(file.headers)
    report = run_import(session, engine, settings, member, file)
    assert report["failures"] == []
    account = account_named(session, "Société Générale d'Études")
    contact = session.get(Contact, email(session, "emile@etudes.fr").contact_id)
    assert (contact.name, contact.language) == ("Émile Bézier", "fr")
    row = row_of(session, account.name, "emile@etudes.fr")
    assert (row.login, row.notify, row.email_sync, row.signatory) == (True, False, False, True)
    phones = session.scalars(select(ContactPhone.number)).all()
    assert phones == ["+33 1 23 45 67 89"]


def test_quoted_fields_keep_their_separators_and_line_breaks_and_lines_stay_right(
    tmp_path, session, settings
):  # R32
    text = (
        "Account name,Contact name,Email,Login\n"
        '"Smith, Jones & Co","Ann\nSmith",ann@smith.co,yes\n'
        '"The ""Quoted"" Bakery",Bob,bob@bakery.co,maybe\n'
    )
    file = read(csv_file(tmp_path, text))
    assert file.delimiter == ","
    found = imports.preview(session, settings, file, options(file))
    assert found.accounts_created == 1
    assert failures(found.to_report()) == {4: 'Login: "maybe" is neither yes nor no.'}
    assert import_files.sample(file, options(file).mapping)[1][ImportField.ACCOUNT_NAME] == (
        'The "Quoted" Bakery'
    )


def test_blank_lines_trailing_empty_columns_and_spaces_are_ignored(tmp_path, session, settings):
    text = "Account name;Email;;\r\n\r\n  Acme  ; a@acme.com ;;\r\n;;;\r\nAcme;b@acme.com;;\r\n\r\n"
    file = read(csv_file(tmp_path, text))
    assert file.headers == ("Account name", "Email")
    assert file.rows == 2
    found = imports.preview(session, settings, file, options(file))
    assert (found.accounts_created, found.addresses_created, found.failures_total) == (1, 2, 0)


def test_a_semicolon_file_with_commas_inside_names_is_sniffed_right(tmp_path):  # R32
    text = "Account name;Email;Contact name\nAcme, Inc;a@acme.com;Doe, Jane\n"
    file = read(csv_file(tmp_path, text))
    assert file.delimiter == ";"
    first = import_files.sample(file, import_files.guess_mapping(file.headers))[0]
    assert first[ImportField.ACCOUNT_NAME] == "Acme, Inc"


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ("NOM DU COMPTE,COURRIEL,ASSIGNÉ À", ("account_name", "email", "assigned_to")),
        ("nombre de la cuenta,correo electrónico,firmante,idioma",
         ("account_name", "email", "signatory", "language")),
        ("Nome account,Indirizzo email,Accesso,Notifica,Cliente di prova,Assegnato a",
         ("account_name", "email", "login", "notify", "test_client", "assigned_to")),
        ("email_sync,E-MAIL,account-name,Account Id,first name,LAST_NAME",
         ("email_sync", "email", "account_name", "account_id", "first_name", "last_name")),
    ],
)  # fmt: skip
def test_headers_in_four_languages_any_case_and_order_are_mapped(tmp_path, headers, expected):
    file = read(csv_file(tmp_path, headers + "\n" + "," * headers.count(",") + "x\n"))
    assert tuple(f.value for f in import_files.guess_mapping(file.headers)) == expected


@pytest.mark.parametrize("language", ["fr", "es", "it"])
def test_the_products_own_words_for_each_column_are_headers_too(language):  # R31a
    translate = translator(language)
    for field, label in import_files.FIELD_LABELS.items():
        assert import_files.field_of_header(translate(label)) == field, translate(label)


@pytest.mark.parametrize(
    ("cell", "value"),
    [("yes", True), ("No", False), ("TRUE", True), ("false", False), ("1", True), ("0", False),
     ("x", True), ("X", True), ("oui", True), ("Non", False), ("sí", True), ("si", True),
     ("sì", True), ("Sì", True), ("no", False), ("", None)],
)  # fmt: skip
def test_yes_and_no_in_four_languages(cell, value):  # R32
    assert import_files.parse_yes_no(cell) is value


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", import_files.EMPTY_FILE),
        (b"\r\n \r\n", import_files.EMPTY_FILE),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", import_files.NOT_TEXT),
        (b"PK\x03\x04\x14\x00\x06\x00", import_files.WORKBOOK),
        (b"Name of the thing,Something else\nA,B\n", import_files.NO_HEADER),
        (b"Account name,Email\n", import_files.NO_ROWS),
    ],
)
def test_a_file_that_cannot_be_imported_gets_one_clear_sentence(data, problem):  # R32
    with pytest.raises(ImportFileError) as refused:
        import_files.read_csv(data, "bad.csv")
    assert refused.value.message == problem


def test_a_file_over_the_limit_is_refused_before_it_is_read(monkeypatch):  # R32
    monkeypatch.setattr(import_files, "MAX_FILE_BYTES", 100)
    with pytest.raises(ImportFileError) as refused:
        import_files.read_csv(b"Account name,Email\n" + b"Acme,a@acme.com\n" * 10)
    assert refused.value.message == import_files.TOO_LARGE


def test_the_template_is_a_file_the_import_reads_whole(tmp_path, session, settings):  # R32
    file = read(csv_file(tmp_path, import_files.template()))
    assert set(import_files.guess_mapping(file.headers)) == set(ImportField)
    found = imports.preview(session, settings, file, options(file))
    assert (found.accounts_created, found.contacts_created, found.failures_total) == (1, 2, 0)


# -- mapping ---------------------------------------------------------------------------------


def test_the_member_can_map_an_unknown_column_and_ignore_another(
    tmp_path, session, engine, settings, member
):  # R32
    text = "Client,Work mail,Contact name\nAcme,ann@acme.com,Ann\n"
    file = read(csv_file(tmp_path, text))
    guessed = import_files.guess_mapping(file.headers)
    assert guessed == (ImportField.ACCOUNT_NAME, None, ImportField.CONTACT_NAME)
    with pytest.raises(ImportFileError):
        import_files.check_mapping(guessed)  # no Email column yet
    chosen = ImportOptions((ImportField.ACCOUNT_NAME, ImportField.EMAIL, None))
    run_import(session, engine, settings, member, file, chosen)
    assert session.get(Contact, email(session, "ann@acme.com").contact_id).name == "ann@acme.com"


def test_a_field_mapped_to_two_columns_is_refused(tmp_path, session, member):
    file = read(csv_file(tmp_path, "Account name,Email,Mail\nAcme,a@acme.com,b@acme.com\n"))
    twice = ImportOptions((ImportField.ACCOUNT_NAME, ImportField.EMAIL, ImportField.EMAIL))
    with pytest.raises(ImportFileError):
        imports.start_job(session, member.id, file, twice)
    assert count(session, BulkJob) == 0


# -- failing rows (R32, R38, R22) ----------------------------------------------------------------


def test_every_failing_row_is_reported_with_its_line_and_the_others_go_on(
    tmp_path, session, engine, settings, member
):  # R32 R38 R22
    text = (
        "Account name,Contact name,Email,Phone,Language,Login,Assigned to\n"
        "Good Ltd,Gina,gina@good.co,,,yes,alice@firm.test\n"  # 2
        "Typo Ltd,Tom,tom@@typo,,,yes,\n"  # 3
        ",Nobody,nobody@nowhere.co,,,yes,\n"  # 4
        "Good Ltd,Zed,zed@good.co,,,yes,bob@firm.test\n"  # 5
        "Good Ltd,Lia,lia@good.co,,klingon,yes,\n"  # 6
        "Good Ltd,Max,max@good.co,,,perhaps,\n"  # 7
        "Good Ltd,Ned,ned@good.co,call me,,,\n"  # 8
        "Good Ltd,,,,,,\n"  # 9
        "Other Ltd,Someone Else,gina@good.co,,,yes,\n"  # 10
        "Good Ltd,Gina,gina@good.co,,,yes,\n"  # 11
    )
    file = read(csv_file(tmp_path, text))
    expected_preview = imports.preview(session, settings, file, options(file))
    report = run_import(session, engine, settings, member, file)
    form_reason = InvalidAddress(contacts.INVALID_ADDRESS, reason=contacts.address_problem(
        "tom@@typo")).describe(translator("en"))  # fmt: skip
    assert failures(report) == {
        3: form_reason,  # the very sentence the profile's form says
        4: "The account name is missing.",
        5: "No team member has the address bob@firm.test.",
        6: 'Unknown language "klingon": use en, fr, es or it.',
        7: 'Login: "perhaps" is neither yes nor no.',
        8: InvalidPhone().describe(translator("en")),
        9: "The email address is missing.",
        10: "This address is given to Gina on line 2: an address belongs to one person.",
        11: "This address is already on this account on line 2.",
    }
    assert report["failures_total"] == 9
    assert failures(expected_preview.to_report()) == failures(report)
    assert [a.name for a in session.scalars(select(Account))] == ["Good Ltd"]
    good = account_named(session, "Good Ltd")
    assert contacts.contact_count(session) == 1
    assert session.get(Contact, email(session, "gina@good.co").contact_id).name == "Gina"
    assert good.contact_count == 1


def test_an_account_name_shared_by_two_accounts_needs_an_account_id(
    tmp_path, session, engine, settings, member
):  # R32
    contacts.create_account(session, "Twin Ltd")
    contacts.create_account(session, "Twin Ltd")
    session.commit()
    file = read(csv_file(tmp_path, "Account name,Email\nTwin Ltd,a@twin.co\n"))
    report = run_import(session, engine, settings, member, file)
    assert failures(report) == {
        2: 'Several accounts are named "Twin Ltd": add an Account ID column to say which one.'
    }
    assert count(session, ContactEmail) == 0


# -- matching and idempotence (R32) ---------------------------------------------------------


def test_rows_that_match_update_what_they_name_and_leave_the_rest_alone(
    tmp_path, session, engine, settings, member
):  # R1 R2 R32
    account = contacts.create_account(session, "Harbour Bakery", is_test_client=True)
    hal = contacts.create_contact(session, settings, "Hal", addresses=["hal@bakery.co"],
                                  language="it")  # fmt: skip
    contacts.link_contact(session, account.id, hal.id)
    row = access_rows.get_row(session, account.id, email(session, "hal@bakery.co").id)
    access_rows.set_switch(session, account.id, row.email_id, "email_sync", True, actor_for(member))
    session.commit()
    text = "Account name,Contact name,Email,Notify\nHarbour Bakery,Hal Baker,hal@bakery.co,yes\n"
    file = read(csv_file(tmp_path, text))
    report = run_import(session, engine, settings, member, file)
    assert (report["accounts_created"], report["contacts_created"]) == (0, 0)
    assert (report["contacts_updated"], report["rows_changed"]) == (1, 1)
    row = row_of(session, "Harbour Bakery", "hal@bakery.co")
    assert (row.login, row.notify, row.email_sync) == (False, True, True)  # sync left alone
    assert all(row.preferences().values())  # R3: Notify first on, all nine on
    hal = session.get(Contact, hal.id)
    assert (hal.name, hal.language) == ("Hal Baker", "it")
    assert account_named(session, "Harbour Bakery").is_test_client  # no column: unchanged


def test_an_account_is_matched_by_its_account_id_and_renamed(
    tmp_path, session, engine, settings, member
):  # R32
    first = csv_file(tmp_path, "Account ID,Account name,Email\nC-7,Old Name Ltd,a@c7.co\n")
    run_import(session, engine, settings, member, read(first))
    old = account_named(session, "Old Name Ltd")
    assert old.external_id == "C-7"
    second = csv_file(
        tmp_path, "Account ID,Account name,Email\nC-7,New Name Ltd,b@c7.co\n", name="2.csv"
    )
    report = run_import(session, engine, settings, member, read(second))
    assert (report["accounts_created"], report["accounts_updated"]) == (0, 1)
    renamed = session.get(Account, old.id)
    assert renamed.name == "New Name Ltd"
    assert renamed.contact_count == 2
    assert "new name ltd" in renamed.search_text


def test_an_account_id_adopts_the_one_account_of_that_name_without_one(
    tmp_path, session, engine, settings, member
):  # R32
    account = contacts.create_account(session, "Quay Florist")
    session.commit()
    file = read(csv_file(tmp_path, "Account ID,Account name,Email\nQ-1,Quay Florist,f@quay.co\n"))
    report = run_import(session, engine, settings, member, file)
    assert report["accounts_created"] == 0
    assert session.get(Account, account.id).external_id == "Q-1"


def test_a_contact_is_matched_by_its_address_and_linked_to_another_account(
    tmp_path, session, engine, settings, member
):  # R1 R32
    first = contacts.create_account(session, "First Ltd")
    pat = contacts.create_contact(session, settings, "Pat", addresses=["pat@x.co", "pat@y.co"])
    contacts.link_contact(session, first.id, pat.id)
    session.commit()
    file = read(csv_file(tmp_path, "Account name,Email,Login\nSecond Ltd,pat@x.co,yes\n"))
    report = run_import(session, engine, settings, member, file)
    assert (report["contacts_created"], report["addresses_created"]) == (0, 0)
    second = account_named(session, "Second Ltd")
    assert session.get(AccountContact, (second.id, pat.id)) is not None
    # R1: the contact's other address gets its access row (off) on the new account too.
    assert not row_of(session, "Second Ltd", "pat@y.co").login
    assert row_of(session, "Second Ltd", "pat@x.co").login
    assert session.get(Account, second.id).contact_count == 1


def test_two_addresses_of_one_person_on_one_account_make_one_contact(
    tmp_path, session, settings
):  # R1 R32
    text = "Account name,First name,Last name,Email\nAcme,Ann,Lee,ann@a.co\nAcme,Ann,Lee,ann@b.co\n"
    file = read(csv_file(tmp_path, text))
    found = imports.preview(session, settings, file, options(file))
    assert (found.contacts_created, found.addresses_created) == (1, 2)


def test_importing_the_same_file_again_changes_nothing_and_invites_nobody(
    tmp_path, session, engine, settings, member
):  # R13 R32
    text = (
        HEADER + ",Test client,Assigned to\n"
        "A-1,Alpha Ltd,Ann Alpha,ann@alpha.co,+1 555 010 2231,fr,yes,yes,no,yes,yes,"
        '"alice@firm.test"\n'
        "A-1,Alpha Ltd,Bob Alpha,bob@alpha.co,,,no,,,,,\n"
        "B-2,Beta Ltd,Ann Alpha,ann@alpha.co,,,yes,no,yes,no,no,alice@firm.test\n"
        "C-3,Gamma Ltd,Cid,cid@@gamma,,,yes,,,,,\n"
    )
    file = read(csv_file(tmp_path, text))
    chosen = options(file, send=True, message="Welcome")
    first = run_import(session, engine, settings, member, file, chosen)
    assert first["invitations_sent"] == 1
    before = snapshot(session)
    again = imports.preview(session, settings, file, chosen)
    assert again.changes == 0 and again.invitations == 0
    assert again.recently_invited == 1  # R13: invited in the last 24 hours
    second = run_import(session, engine, settings, member, file, chosen)
    assert snapshot(session) == before
    assert second["invitations_sent"] == 0
    assert second["rows_changed"] == second["accounts_updated"] == second["contacts_updated"] == 0
    assert failures(second) == failures(first) and len(failures(first)) == 1


# -- invitations, assignments, the report (R2-R13, R30) -----------------------------------------


def _body(settings, message: OutboxMessage) -> str:
    raw = outbox.build_message(settings, message)
    parsed = email_parser.BytesParser(policy=email_policy.default).parsebytes(raw)
    return parsed.get_body(preferencelist=("plain",)).get_content()


def test_invitations_go_through_the_outbox_once_per_address_with_the_message(
    tmp_path, session, engine, settings, member
):  # R12 R14 R19 R32
    text = (
        "Account name,Contact name,Email,Login,Language\n"
        "Alpha Ltd,Ann,ann@alpha.co,oui,fr\n"
        "Beta Ltd,Ann,ann@alpha.co,sì,\n"
        "Beta Ltd,Ben,ben@beta.co,non,\n"
        "Beta Ltd,Cy,cy@beta.co,,\n"
    )
    file = read(csv_file(tmp_path, text))
    chosen = options(file, send=True, message="Your documents are waiting.")
    assert imports.preview(session, settings, file, chosen).invitations == 1
    report = run_import(session, engine, settings, member, file, chosen)
    assert report["invitations_sent"] == 1
    (message,) = session.scalars(select(OutboxMessage)).all()
    assert message.to_address == "ann@alpha.co"
    assert message.language == "fr"
    body = _body(settings, message)
    assert "Your documents are waiting." in body
    assert "Alpha Ltd" in body and "Beta Ltd" in body  # R14: every account with Login on
    invitation = invitations.outstanding(session, email(session, "ann@alpha.co").id)
    assert invitation.invited_by_member_id == member.id  # R20
    assert account_named(session, "Beta Ltd").status == 1  # R7: Pending activation


def test_without_send_invitations_login_is_on_and_nobody_is_invited(
    tmp_path, session, engine, settings, member
):  # R9 R32
    file = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\n"))
    assert imports.preview(session, settings, file, options(file)).invitations == 1  # would
    report = run_import(session, engine, settings, member, file)
    assert report["invitations_sent"] == 0
    assert outbox_addresses(session) == []
    assert row_of(session, "Alpha Ltd", "ann@alpha.co").login


def test_an_address_already_active_gets_the_account_without_an_invitation(
    tmp_path, session, engine, settings, member
):  # R10 R32
    file = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\n"))
    run_import(session, engine, settings, member, file, options(file, send=True))
    link = session.scalars(select(OutboxMessage)).one()
    token = _body(settings, link).split("/activate/")[1].split()[0]
    invitations.activate(session, settings, token, "tidal-Otter-4821")
    session.commit()
    second = read(csv_file(tmp_path, "Account name,Email,Login\nBeta Ltd,ann@alpha.co,yes\n",
                           name="beta.csv"))  # fmt: skip
    chosen = options(second, send=True)
    assert imports.preview(session, settings, second, chosen).already_active == 1
    report = run_import(session, engine, settings, member, second, chosen)
    assert report["invitations_sent"] == 0 and report["already_active"] == 1
    assert count(session, OutboxMessage) == 1
    assert account_named(session, "Beta Ltd").status == 0  # R7: Activated at once


def test_an_address_invited_more_than_a_day_ago_is_invited_again_like_a_bulk_update(
    tmp_path, session, engine, settings, member
):  # R13
    file = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\n"))
    chosen = options(file, send=True)
    run_import(session, engine, settings, member, file, chosen)
    invitation = session.scalars(select(Invitation)).one()
    invitation.created_at = utcnow() - timedelta(hours=25)
    session.commit()
    report = run_import(session, engine, settings, member, file, chosen)
    assert report["invitations_sent"] == 1
    assert session.get(Invitation, invitation.id).state == InvitationState.SUPERSEDED.value


def test_turning_the_last_login_off_cancels_the_outstanding_invitation(
    tmp_path, session, engine, settings, member
):  # R11 R32
    on = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\n"))
    run_import(session, engine, settings, member, on, options(on, send=True))
    off = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,no\n",
                        name="off.csv"))  # fmt: skip
    run_import(session, engine, settings, member, off)
    assert invitations.outstanding(session, email(session, "ann@alpha.co").id) is None
    assert account_named(session, "Alpha Ltd").status == 2  # R7: Not activated


def test_assigned_team_members_are_added_to_the_account(
    tmp_path, session, engine, settings, member
):  # R5 R32
    other = make_member(session, name="Bob Staff")
    other.email = "bob@firm.test"
    session.commit()
    text = (
        "Account name,Email,Assigned to\n"
        'Alpha Ltd,ann@alpha.co,"alice@firm.test; BOB@firm.test"\n'
        "Alpha Ltd,ben@alpha.co,alice@firm.test\n"
    )
    file = read(csv_file(tmp_path, text))
    run_import(session, engine, settings, member, file)
    alpha = account_named(session, "Alpha Ltd")
    assigned = session.scalars(
        select(AccountAssignment.team_member_id).where(AccountAssignment.account_id == alpha.id)
    ).all()
    assert sorted(assigned) == sorted([member.id, other.id])


def test_the_report_lands_in_inbox_and_the_activity_feed(
    tmp_path, session, engine, settings, member
):  # R13 R29 R30
    text = "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\nBeta Ltd,bad@@,yes\n"
    file = read(csv_file(tmp_path, text, name="clients.csv"))
    report = run_import(session, engine, settings, member, file, options(file, send=True))
    (item,) = session.scalars(select(InboxNotification)).all()
    assert item.member_id == member.id and item.kind == "import_report"
    title, body = activity.describe_notification(item, translator("en"))
    assert title == "Import finished: clients.csv"
    assert "Invitations sent: 1" in body and "Failing rows: 1" in body
    assert "Line 3: This email address is invalid" in body
    french_title, _body_fr = activity.describe_notification(item, translator("fr"))
    assert french_title != title
    kinds = session.scalars(select(ActivityEvent.kind)).all()
    assert kinds.count(activity.IMPORT) == 2  # Alpha's, and the whole file's
    summary = session.scalars(
        select(ActivityEvent).where(
            ActivityEvent.kind == activity.IMPORT, ActivityEvent.account_id.is_(None)
        )
    ).one()
    assert summary.actor_member_id == member.id
    assert "clients.csv" in activity.describe_event(summary, translator("en"))
    assert report["failures_total"] == 1
    assert session.get(BulkJob, summary.detail["job_id"]).state == JobState.DONE


def test_the_preview_says_what_the_job_then_does(tmp_path, session, engine, settings, member):
    text = (
        HEADER + "\n"
        "A-1,Alpha Ltd,Ann,ann@alpha.co,,,yes,yes,,,\n"
        "A-1,Alpha Ltd,Bob,bob@alpha.co,,,,,,,\n"
        "B-2,Beta Ltd,Ann,ann@alpha.co,,,yes,,,,\n"
        "B-2,Beta Ltd,Cy,cy@beta.co,,xx,,,,,\n"
    )
    file = read(csv_file(tmp_path, text))
    chosen = options(file, send=True)
    found = imports.preview(session, settings, file, chosen).to_report()
    assert count(session, Account) == 0  # the preview writes nothing
    report = run_import(session, engine, settings, member, file, chosen)
    for key in ("accounts_created", "contacts_created", "addresses_created", "rows_changed",
                "invitations_sent", "failures_total"):  # fmt: skip
        assert report[key] == found[key], key
    assert (report["accounts_created"], report["contacts_created"]) == (2, 2)


def test_a_large_import_goes_in_chunks_and_counts_every_row(
    tmp_path, session, engine, settings, member, monkeypatch
):  # R13 R32
    monkeypatch.setattr(imports, "CHUNK_ROWS", 3)
    lines = [
        f"Company {i // 2},person{i}@example.com,{'yes' if i % 2 else 'no'}" for i in range(11)
    ]
    lines.insert(5, "Broken,nobody,yes")
    text = "Account name,Email,Login\n" + "\n".join(lines) + "\n"
    file = read(csv_file(tmp_path, text))
    report = run_import(session, engine, settings, member, file)
    assert (report["accounts_created"], report["addresses_created"]) == (6, 11)
    assert failures(report).keys() == {7}
    assert jobs.job_progress(session, report_job(session)).done == 12
    notify_off = session.scalars(select(AccessRow.notify)).all()
    assert not any(notify_off)
    assert not any(getattr(row, c) for row in session.scalars(select(AccessRow))
                   for c in NOTIFICATION_CATEGORIES)  # fmt: skip


def report_job(session) -> int:
    return session.scalars(select(BulkJob.id).order_by(BulkJob.id.desc())).first()


# -- the job runner the bulk update shares (R13, R40) -----------------------------------------


def test_an_import_left_running_by_a_stopped_process_is_resumed(
    tmp_path, session, engine, settings, member
):  # R13 R32
    file = read(csv_file(tmp_path, "Account name,Email,Login\nAlpha Ltd,ann@alpha.co,yes\n"))
    job = imports.start_job(session, member.id, file, options(file, send=True))
    job.state = JobState.RUNNING.value  # the process stopped before it finished
    session.commit()
    assert jobs.unfinished_jobs(session) == [job.id]
    assert imports.run_job(engine, settings, job.id) == {}  # not without resume
    report = imports.run_job(engine, settings, job.id, resume=True)
    assert report["invitations_sent"] == 1
    session.expire_all()
    assert jobs.unfinished_jobs(session) == []


def test_a_running_job_whose_lease_holds_is_not_taken_by_another_process(
    tmp_path, session, engine, settings, member
):  # R40
    file = read(csv_file(tmp_path, "Account name,Email\nAlpha Ltd,ann@alpha.co\n"))
    job = imports.start_job(session, member.id, file, options(file))
    session.commit()
    assert jobs.claim(engine, job.id) is not None  # this process runs it
    later = utcnow() + timedelta(seconds=5)
    assert jobs.unfinished_jobs(session, now=later) == []
    assert jobs.claim(engine, job.id, resume=True, now=later) is None
    expired = utcnow() + jobs.LEASE + timedelta(seconds=1)
    session.expire_all()
    assert jobs.unfinished_jobs(session, now=expired) == [job.id]
    assert jobs.claim(engine, job.id, resume=True, now=expired) is not None


def test_a_job_is_claimed_once(tmp_path, session, engine, member):  # R40
    file = read(csv_file(tmp_path, "Account name,Email\nAlpha Ltd,ann@alpha.co\n"))
    job = imports.start_job(session, member.id, file, options(file))
    session.commit()
    claims = [jobs.claim(engine, job.id, resume=True) for _ in range(3)]
    assert sum(claim is not None for claim in claims) == 1


def test_progress_reads_the_job_without_its_file(tmp_path, session, member):
    file = read(csv_file(tmp_path, "Account name,Email\nAlpha Ltd,ann@alpha.co\n"))
    job = imports.start_job(session, member.id, file, options(file))
    session.commit()
    assert jobs.job_progress(session, job.id) == (JobState.QUEUED, 0, 1, {})


def test_a_message_over_the_limit_is_refused_before_anything_is_queued(
    tmp_path, session, member
):  # R38
    file = read(csv_file(tmp_path, "Account name,Email\nAlpha Ltd,ann@alpha.co\n"))
    with pytest.raises(Exception) as refused:
        imports.start_job(session, member.id, file, options(file, send=True, message="x" * 5001))
    assert type(refused.value).__name__ == "MessageTooLong"
    assert session.scalar(select(func.count()).select_from(BulkJob)) == 0
