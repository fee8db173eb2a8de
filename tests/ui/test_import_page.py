"""/clients/import (R32), driven through NiceGUI's User fixture: upload a file, change the
mapping, read the preview, run the import with invitations and follow it to its report."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User
from sqlalchemy import Engine, select
from sqlmodel import Session

from portal_ui.models import Account, BulkJob, InboxNotification, JobState, OutboxMessage
from tests.ui.staff_session import see, sign_in, until

FILE = (
    "Nom du compte;Nom du contact;Mail pro;Connexion;Langue\r\n"
    "Boulangerie Dupré;Émile Dupré;emile@dupre.fr;oui;fr\r\n"
    "Boulangerie Dupré;Anne Dupré;anne@dupre.fr;non;\r\n"
    "Café Crème;Zoé Martin;zoe@@cafe;oui;\r\n"
)


def element(user: User, marker: str) -> ui.element:
    return next(iter(user.find(marker=marker).elements))


def shown(user: User, marker: str) -> str | None:
    """The text of the visible element with this marker, or None while there is none."""
    try:
        return element(user, marker).text
    except AssertionError:
        return None


def text_of(user: User, marker: str) -> str:
    found = element(user, marker)
    return " ".join(label.text for label in found.descendants() if isinstance(label, ui.label))


async def upload(user: User, name: str, data: bytes) -> None:
    uploader = element(user, "import-upload")
    assert isinstance(uploader, ui.upload)
    with user.client:
        await uploader.handle_uploads([ui.upload.SmallFileUpload(name, "text/csv", data)])


def choose(user: User, marker: str, label: str) -> None:
    select = element(user, marker)
    with user.client:
        select.set_value(next(key for key, text in select.options.items() if text == label))


async def test_the_accounts_list_leads_to_the_import(user: User) -> None:  # R32
    await sign_in(user, "/clients/accounts")
    await see(user, "Import")
    user.find(marker="import-accounts").click()
    await see(user, "Import accounts and contacts")
    await see(user, "Download the template (CSV)")


async def test_upload_map_preview_and_run_with_invitations(user: User, ui_engine: Engine) -> None:
    # R32, R12, R13
    await sign_in(user, "/clients/import")
    await upload(user, "clients.csv", FILE.encode("cp1252"))
    await see(user, "clients.csv: 3 rows, semicolon-separated, windows-1252")
    # "Mail pro" is not a header the import knows: the member maps it to Email.
    await see(user, "Choose the column that holds Email.")
    choose(user, "map-column-2", "Email")
    await until(lambda: shown(user, "preview-accounts") == "1")
    assert element(user, "preview-addresses").text == "2"
    assert "Line 4: This email address is invalid" in text_of(user, "import-failures")
    sample = element(user, "import-sample")
    assert sample.rows[0]["email"] == "emile@dupre.fr"
    assert sample.rows[0]["account_name"] == "Boulangerie Dupré"

    user.find("Send invitations").click()
    await until(lambda: "invitations to send" in text_of(user, "import-preview"))
    assert element(user, "preview-invitations").text == "1"
    user.find("Personalized message").type("Bienvenue !")
    user.find(marker="import-run").click()
    await user.should_see("Import finished", retries=100)
    assert "1 invitation sent" in element(user, "import-report").text
    assert "1 row failed" in element(user, "import-report").text
    with Session(ui_engine) as session:
        job = session.scalars(select(BulkJob)).one()
        assert (job.kind, job.state) == ("import", JobState.DONE.value)
        assert session.scalars(select(Account.name)).all() == ["Boulangerie Dupré"]
        (message,) = session.scalars(select(OutboxMessage)).all()
        assert message.to_address == "emile@dupre.fr"
        inbox = session.scalars(select(InboxNotification.kind)).all()
        assert inbox == ["import_report"]


async def test_a_file_that_is_not_csv_gets_one_sentence_and_no_mapping(user: User) -> None:
    await sign_in(user, "/clients/import")
    await upload(user, "photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    await see(user, "This file is not a CSV text file. Save it from your spreadsheet as CSV.")
    assert shown(user, "import-sample") is None  # no mapping, no preview
    assert shown(user, "import-run") is None


async def test_a_file_that_changes_nothing_says_so(user: User, ui_engine: Engine) -> None:
    await sign_in(user, "/clients/import")
    data = b"Account name,Email\nAcme,ann@acme.co\n"
    await upload(user, "acme.csv", data)
    await until(lambda: shown(user, "preview-accounts") == "1")
    user.find(marker="import-run").click()
    await user.should_see("Import finished", retries=100)
    await user.open("/clients/import")
    await upload(user, "acme.csv", data)
    await see(user, "This file changes nothing: everything in it is already there.")
