"""A team member imports a CSV file in real Chromium against `portal-ui serve`: upload it,
fix a column's mapping, read the preview, run it with invitations, follow the progress to the
report, and a client activates from the invitation it sent (R12, R13, R17, R32)."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.e2e.conftest import activation_link, screenshot, text_of

CLIENT = "emile@dupre.example.com"
PASSWORD = "tidal-Otter-4821-harbour"
MESSAGE = "Vos documents vous attendent."
# Excel's CSV on a French machine: Windows-1252, semicolons, French headers, and one column
# whose header the import does not know ("Mail pro").
FILE = (
    "Nom du compte;Prénom;Nom;Mail pro;Connexion;Notifier;Langue\r\n"
    "Boulangerie Dupré;Émile;Dupré;emile@dupre.example.com;oui;oui;fr\r\n"
    "Boulangerie Dupré;Anne;Dupré;anne@dupre.example.com;non;non;fr\r\n"
    '"Café Crème, Lyon";Zoé;Martin;zoe@@cafe;oui;non;\r\n'
).encode("cp1252")


def test_import_a_file_with_invitations_and_a_client_activates(
    start_portal, page: Page, context: BrowserContext
) -> None:  # R32, R12, R13, R17
    portal = start_portal()
    portal.sign_in_staff(page, "/clients/accounts")
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/clients/import")
    expect(page.get_by_role("link", name="Download the template (CSV)")).to_be_visible()

    page.locator("input[type=file]").set_input_files(
        files=[{"name": "clients.csv", "mimeType": "text/csv", "buffer": FILE}]
    )
    expect(page.get_by_text("clients.csv: 3 rows, semicolon-separated")).to_be_visible()
    preview = page.get_by_test_id("import-preview")
    expect(preview).to_contain_text("Choose the column that holds Email.")

    page.get_by_label("Imported as: Mail pro").click()
    page.get_by_role("option", name="Email", exact=True).click()
    expect(preview).to_contain_text("new accounts")
    expect(preview).to_contain_text("Line 4: This email address is invalid")
    expect(page.get_by_role("cell", name=CLIENT)).to_be_visible()  # the first rows, as read

    page.get_by_role("checkbox", name="Send invitations").click()
    expect(preview).to_contain_text("invitations to send")
    screenshot(page, "import-preview")
    # (A full-page picture lays the page out again: the click right after it can be lost.)
    page.get_by_label("Personalized message").fill(MESSAGE)
    page.get_by_role("button", name="Import 3 rows").click()

    progress = page.get_by_test_id("bulk-progress")
    expect(progress).to_be_visible()
    expect(progress).to_contain_text("Import finished")
    expect(progress).to_contain_text("1 invitation sent")
    expect(progress).to_contain_text("1 row failed")
    expect(page.get_by_test_id("inbox-count")).to_have_text("1")
    screenshot(page, "import-finished")

    message = portal.mail.wait_for(CLIENT)[0]
    assert MESSAGE in text_of(message)
    assert portal.mail.to("anne@dupre.example.com") == []  # Login off: no invitation

    client = context.browser.new_context(viewport={"width": 1280, "height": 860})
    client_page = client.new_page()
    client_page.goto(activation_link(message))
    expect(client_page.get_by_text("Boulangerie Dupré")).to_be_visible()
    # The file said French for this contact: the activation page speaks it (R31a).
    client_page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    client_page.get_by_label("Confirmer le mot de passe", exact=True).fill(PASSWORD)
    client_page.get_by_role("button", name="Activer", exact=True).click()
    client_page.wait_for_url("**/portal*")
    expect(client_page.get_by_role("heading", name="Boulangerie Dupré")).to_be_visible()
    client.close()

    page.goto(f"{portal.url}/clients/accounts")
    row = page.get_by_role("row").filter(has_text="Boulangerie Dupré")
    expect(row.get_by_test_id("account-status")).to_have_attribute("data-status", "activated")
