"""The CSV files of an import as people really export them (R32): their encoding and
separator, their header row in English, French, Spanish or Italian mapped to the import's
fields, and each row read into the values the import writes, or the reason it cannot be."""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Any

from portal_ui import contacts, inputs
from portal_ui.errors import DomainError
from portal_ui.i18n import LANGUAGES, N_

# The largest file one import takes: about 200,000 rows of a usual export.
MAX_FILE_MB = 20
MAX_FILE_BYTES = MAX_FILE_MB * 1024 * 1024
DELIMITERS = (",", ";", "\t")
MAX_EXTERNAL_ID = inputs.MAX_NAME


class ImportField(StrEnum):
    """What a column of the file holds (CONTRACT.md, "CSV import files")."""

    ACCOUNT_ID = "account_id"
    ACCOUNT_NAME = "account_name"
    CONTACT_NAME = "contact_name"
    FIRST_NAME = "first_name"
    LAST_NAME = "last_name"
    EMAIL = "email"
    PHONE = "phone"
    LANGUAGE = "language"
    LOGIN = "login"
    NOTIFY = "notify"
    EMAIL_SYNC = "email_sync"
    SIGNATORY = "signatory"
    TEST_CLIENT = "test_client"
    ASSIGNED_TO = "assigned_to"


# The English header of each field (the template's), also its label on the mapping screen.
FIELD_LABELS: dict[ImportField, str] = {
    ImportField.ACCOUNT_ID: N_("Account ID"),
    ImportField.ACCOUNT_NAME: N_("Account name"),
    ImportField.CONTACT_NAME: N_("Contact name"),
    ImportField.FIRST_NAME: N_("First name"),
    ImportField.LAST_NAME: N_("Last name"),
    ImportField.EMAIL: N_("Email"),
    ImportField.PHONE: N_("Phone"),
    ImportField.LANGUAGE: N_("Language"),
    ImportField.LOGIN: N_("Login"),
    ImportField.NOTIFY: N_("Notify"),
    ImportField.EMAIL_SYNC: N_("Email sync"),
    ImportField.SIGNATORY: N_("Signatory"),
    ImportField.TEST_CLIENT: N_("Test client"),
    ImportField.ASSIGNED_TO: N_("Assigned to"),
}
REQUIRED_FIELDS = (ImportField.ACCOUNT_NAME, ImportField.EMAIL)
# The access row's switches, in SWITCHES' order (R2).
SWITCH_FIELDS = (
    ImportField.LOGIN,
    ImportField.NOTIFY,
    ImportField.EMAIL_SYNC,
    ImportField.SIGNATORY,
)

# Header names that people use for each field, in the four languages (R31a). Compared
# without case, accents, spaces or punctuation ("E-mail", "EMAIL", "e_mail" are one).
_HEADER_NAMES: dict[ImportField, tuple[str, ...]] = {
    ImportField.ACCOUNT_ID: (
        "Account ID",
        "External ID",
        "Client ID",
        "Customer ID",
        "Account number",
        "Client number",
        "Customer number",
        "ID du compte",
        "ID compte",
        "Identifiant du compte",
        "Identifiant compte",
        "Numéro de compte",
        "Numéro client",
        "Code client",
        "ID de cuenta",
        "ID de la cuenta",
        "ID cuenta",
        "Identificador de cuenta",
        "Número de cuenta",
        "Número de cliente",
        "Código de cliente",
        "ID account",
        "ID dell'account",
        "ID conto",
        "Identificativo account",
        "Codice cliente",
        "Numero cliente",
    ),
    ImportField.ACCOUNT_NAME: (
        "Account name",
        "Account",
        "Company",
        "Company name",
        "Client",
        "Client name",
        "Customer",
        "Customer name",
        "Organization",
        "Organisation",
        "Nom du compte",
        "Nom de compte",
        "Nom compte",
        "Compte",
        "Société",
        "Entreprise",
        "Raison sociale",
        "Nom du client",
        "Nombre de la cuenta",
        "Nombre de cuenta",
        "Cuenta",
        "Empresa",
        "Razón social",
        "Cliente",
        "Nombre del cliente",
        "Nome account",
        "Nome dell'account",
        "Nome conto",
        "Conto",
        "Azienda",
        "Ragione sociale",
        "Nome cliente",
    ),
    ImportField.CONTACT_NAME: (
        "Contact name",
        "Contact",
        "Name",
        "Full name",
        "Person",
        "Nom du contact",
        "Nom contact",
        "Nom complet",
        "Personne",
        "Nombre del contacto",
        "Nombre de contacto",
        "Contacto",
        "Nombre completo",
        "Persona",
        "Nome contatto",
        "Nome del contatto",
        "Contatto",
        "Nome completo",
        "Nominativo",
    ),
    ImportField.FIRST_NAME: (
        "First name",
        "Firstname",
        "Given name",
        "Forename",
        "Prénom",
        "Nombre",
        "Nombre de pila",
        "Nome",
        "Nome di battesimo",
    ),
    ImportField.LAST_NAME: (
        "Last name",
        "Lastname",
        "Surname",
        "Family name",
        "Nom",
        "Nom de famille",
        "Apellido",
        "Apellidos",
        "Cognome",
    ),
    ImportField.EMAIL: (
        "Email",
        "E-mail",
        "Email address",
        "E-mail address",
        "Mail",
        "Courriel",
        "Adresse e-mail",
        "Adresse email",
        "Adresse électronique",
        "Adresse mail",
        "Correo",
        "Correo electrónico",
        "Dirección de correo",
        "Dirección de correo electrónico",
        "Email del contacto",
        "Indirizzo email",
        "Indirizzo e-mail",
        "Posta elettronica",
        "Indirizzo di posta elettronica",
    ),
    ImportField.PHONE: (
        "Phone",
        "Phone number",
        "Telephone",
        "Tel",
        "Mobile",
        "Téléphone",
        "Tél",
        "Numéro de téléphone",
        "Portable",
        "Teléfono",
        "Número de teléfono",
        "Móvil",
        "Celular",
        "Telefono",
        "Numero di telefono",
        "Cellulare",
    ),
    ImportField.LANGUAGE: ("Language", "Lang", "Langue", "Idioma", "Lengua", "Lingua"),
    ImportField.LOGIN: (
        "Login",
        "Portal access",
        "Portal login",
        "Connexion",
        "Accès",
        "Accès au portail",
        "Iniciar sesión",
        "Inicio de sesión",
        "Acceso",
        "Acceso al portal",
        "Accesso",
        "Accesso al portale",
    ),
    ImportField.NOTIFY: (
        "Notify",
        "Notifications",
        "Notifier",
        "Notification",
        "Notificar",
        "Notificaciones",
        "Notifica",
        "Notifiche",
    ),
    ImportField.EMAIL_SYNC: (
        "Email sync",
        "E-mail sync",
        "Email synchronization",
        "Email synchronisation",
        "Synchronisation des e-mails",
        "Synchronisation des emails",
        "Synchronisation e-mail",
        "Sincronización de correo electrónico",
        "Sincronización de correo",
        "Sincronización del correo",
        "Sincronizzazione e-mail",
        "Sincronizzazione email",
    ),
    ImportField.SIGNATORY: ("Signatory", "Signer", "Signataire", "Firmante", "Firmatario"),
    ImportField.TEST_CLIENT: (
        "Test client",
        "Test account",
        "Client de test",
        "Compte de test",
        "Cliente de prueba",
        "Cuenta de prueba",
        "Cliente di prova",
        "Cliente di test",
        "Account di prova",
    ),
    ImportField.ASSIGNED_TO: (
        "Assigned to",
        "Assignee",
        "Assigned",
        "Team member",
        "Owner",
        "Assigné à",
        "Assignée à",
        "Responsable",
        "Asignado a",
        "Asignada a",
        "Assegnato a",
        "Assegnata a",
        "Responsabile",
    ),
}

# Yes/no cells (R32): an empty cell leaves the value as it is.
_YES = ("yes", "y", "true", "1", "x", "on", "oui", "vrai", "sí", "si", "verdadero", "sì", "vero")
_NO = ("no", "n", "false", "0", "off", "non", "faux", "falso")
# Language cells (R31a): the code, a code with a region (fr-CA), or the language's name.
_LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "anglais", "inglés", "inglese"),
    "fr": ("french", "français", "francés", "francese"),
    "es": ("spanish", "espagnol", "español", "castellano", "spagnolo"),
    "it": ("italian", "italien", "italiano"),
}
_ASSIGNEE_SEPARATORS = re.compile(r"[;,\s]+")

# Why a file cannot be imported at all (one sentence, nothing is written).
NOT_TEXT = N_("This file is not a CSV text file. Save it from your spreadsheet as CSV.")
WORKBOOK = N_("This is a spreadsheet workbook, not a CSV file. Save it as CSV first.")
EMPTY_FILE = N_("This file is empty.")
TOO_LARGE = N_(
    "This file is larger than {limit} MB, the most one import takes. Split it into several files."
)
NO_HEADER = N_(
    "The first row of this file names none of the columns an import knows, such as Account "
    "name and Email. Download the template to see them."
)
NO_ROWS = N_("This file has a header row but no rows to import.")
UNREADABLE = N_("This file cannot be read as CSV: {problem}")
MISSING_COLUMNS = N_("Choose the column that holds {fields}.")
TWICE = N_("Two columns are mapped to {field}: choose one.")

# Why one row fails (with its line number; the other rows go on).
MISSING_ACCOUNT_NAME = N_("The account name is missing.")
MISSING_ADDRESS = N_("The email address is missing.")
NOT_YES_NO = N_('{column}: "{value}" is neither yes nor no.')
UNKNOWN_LANGUAGE = N_('Unknown language "{value}": use en, fr, es or it.')
UNKNOWN_ASSIGNEE = N_("No team member has the address {address}.")
EXTERNAL_ID_TOO_LONG = N_("An account ID can have at most {limit} characters.")


class ImportFileError(DomainError):
    """The file cannot be imported at all: not text, empty, too large, no known header."""

    message = NOT_TEXT


class RowProblem(Exception):
    """Why one row cannot be imported: an untranslated message id and its arguments."""

    def __init__(self, reason: str, /, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _key(text: str) -> str:
    """A header or a cell as compared: no accents, no case, letters and digits only."""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return "".join(char for char in plain.casefold() if char.isalnum())


_HEADERS: dict[str, ImportField] = {}
for _field, _names in _HEADER_NAMES.items():
    for _name in (FIELD_LABELS[_field], *_names):
        _found = _HEADERS.setdefault(_key(_name), _field)
        assert _found == _field, f"header {_name!r} names two fields"
_YES_KEYS = frozenset(_key(word) for word in _YES)
_NO_KEYS = frozenset(_key(word) for word in _NO)
_LANGUAGE_KEYS = {
    _key(word): code for code, words in _LANGUAGE_NAMES.items() for word in (code, *words)
}


def field_of_header(header: str) -> ImportField | None:
    """The field a header names, in any of the four languages, case and punctuation."""
    return _HEADERS.get(_key(header))


@dataclass(frozen=True)
class CsvFile:
    """A decoded CSV file: its text, how it was written, its header and how many rows follow."""

    name: str
    text: str
    encoding: str
    delimiter: str
    headers: tuple[str, ...]
    rows: int

    def records(self) -> Iterator[tuple[int, list[str]]]:
        """Each data row with the line it starts on (a quoted line break makes a row span
        several lines); blank rows are skipped."""
        records = _records(self.text, self.delimiter)
        next(records, None)  # the header
        yield from records

    def to_params(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "text": self.text,
            "encoding": self.encoding,
            "delimiter": self.delimiter,
        }

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> CsvFile:
        return _parsed(
            str(params["text"]),
            str(params.get("name", "")),
            str(params.get("encoding", "utf-8")),
            str(params["delimiter"]),
        )


def read_csv(data: bytes, name: str = "") -> CsvFile:
    """Decode and check a file (R32); ImportFileError, saying why, when it is not a CSV text
    file, is empty, too large, or has no header row the import knows."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(TOO_LARGE, limit=MAX_FILE_MB)
    text, encoding = _decode(data)
    if not text.strip():
        raise ImportFileError(EMPTY_FILE)
    delimiter = _delimiter(text)
    found = _parsed(text, name, encoding, delimiter)
    if not any(field_of_header(header) for header in found.headers):
        raise ImportFileError(NO_HEADER)
    if not found.rows:
        raise ImportFileError(NO_ROWS)
    return found


def _parsed(text: str, name: str, encoding: str, delimiter: str) -> CsvFile:
    records = _records(text, delimiter)
    try:
        _line, header = next(records, (0, []))
        rows = sum(1 for _ in records)
    except csv.Error as error:
        raise ImportFileError(UNREADABLE, problem=str(error)) from None
    # Trailing empty columns (a spreadsheet's formatting) are no columns.
    while header and not header[-1].strip():
        header.pop()
    headers = tuple(cell.strip() for cell in header)
    return CsvFile(name, text, encoding, delimiter, headers, rows)


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-8 with or without a byte-order mark, UTF-16 with one, else Windows-1252 (Excel's
    CSV on many European machines). Binary files are refused."""
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError(WORKBOOK)  # .xlsx (a zip) or .xls
    if data.startswith(codecs.BOM_UTF8):
        return _text(data[len(codecs.BOM_UTF8) :], "utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _text(data, "utf-16"), "utf-16"
    if b"\x00" in data:
        raise ImportFileError(NOT_TEXT)
    try:
        return _text(data, "utf-8"), "utf-8"
    except ImportFileError:
        return _text(data, "cp1252"), "windows-1252"


def _text(data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise ImportFileError(NOT_TEXT) from None
    sample = text[:65536]
    controls = sum(1 for char in sample if ord(char) < 32 and char not in "\t\r\n\f")
    if "\x00" in sample or controls > len(sample) // 100:
        raise ImportFileError(NOT_TEXT)
    return text


def _delimiter(text: str) -> str:
    """The separator that makes the most known headers of the first row (then the most
    columns): comma, semicolon or tab, sniffed rather than asked."""

    def score(delimiter: str) -> tuple[int, int]:
        try:
            _line, header = next(_records(text, delimiter), (0, []))
        except csv.Error:
            return (-1, 0)
        known = sum(1 for cell in header if field_of_header(cell))
        return known, sum(1 for cell in header if cell.strip())

    return max(DELIMITERS, key=score)


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    for cells in reader:
        start, line = line, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield start, cells


def guess_mapping(headers: Sequence[str]) -> tuple[ImportField | None, ...]:
    """The field of each column, from its header (None: the column is ignored); a field
    named twice goes to its first column."""
    taken: set[ImportField] = set()
    mapping: list[ImportField | None] = []
    for header in headers:
        field = field_of_header(header)
        if field in taken:
            field = None
        if field is not None:
            taken.add(field)
        mapping.append(field)
    return tuple(mapping)


def check_mapping(mapping: Sequence[ImportField | None]) -> None:
    """ImportFileError unless Account name and Email each have a column, and no field has
    two."""
    chosen = [field for field in mapping if field is not None]
    for field in chosen:
        if chosen.count(field) > 1:
            raise ImportFileError(TWICE, field=FIELD_LABELS[field])
    missing = [FIELD_LABELS[field] for field in REQUIRED_FIELDS if field not in chosen]
    if missing:
        raise ImportFileError(MISSING_COLUMNS, fields=" / ".join(missing))


def sample(
    file: CsvFile, mapping: Sequence[ImportField | None], count: int = 5
) -> list[dict[ImportField, str]]:
    """The first rows as the mapping reads them (the mapping screen shows them)."""
    return [_cells(cells, mapping) for _line, cells in islice(file.records(), count)]


def _cells(cells: Sequence[str], mapping: Sequence[ImportField | None]) -> dict[ImportField, str]:
    found: dict[ImportField, str] = {}
    for field, cell in zip(mapping, cells, strict=False):
        if field is not None:
            found[field] = cell.strip()
    return found


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One row read: one address of one contact on one account. Empty values (None, "")
    leave what exists as it is."""

    line: int
    external_id: str
    account_name: str
    contact_name: str
    address: str
    phone: str
    language: str | None
    switches: tuple[bool | None, bool | None, bool | None, bool | None]
    test_client: bool | None
    assignees: tuple[int, ...]

    @property
    def account_key(self) -> tuple[str, str]:
        """How the file names its account: by Account ID when the row has one (R32)."""
        return ("id", self.external_id) if self.external_id else ("name", self.account_name)


def read_row(
    line: int,
    cells: Sequence[str],
    mapping: Sequence[ImportField | None],
    headers: Sequence[str],
    members: Mapping[str, int],
    check_dns: bool = False,
) -> ImportRow:
    """The values of one row, checked as the forms check them (R38, R22); RowProblem says
    why it cannot be imported. `members`: team member ids by lower-cased address."""
    values = _cells(cells, mapping)
    column = {field: headers[i] if i < len(headers) else "" for i, field in enumerate(mapping)}
    name = values.get(ImportField.ACCOUNT_NAME, "")
    if not name:
        raise RowProblem(MISSING_ACCOUNT_NAME)
    external_id = values.get(ImportField.ACCOUNT_ID, "")
    if len(external_id) > MAX_EXTERNAL_ID:
        raise RowProblem(EXTERNAL_ID_TOO_LONG, limit=MAX_EXTERNAL_ID)
    raw_address = values.get(ImportField.EMAIL, "")
    if not raw_address:
        raise RowProblem(MISSING_ADDRESS)
    return ImportRow(
        line=line,
        external_id=external_id,
        account_name=_checked(inputs.clean_name, name),
        contact_name=_contact_name(values),
        address=_checked(lambda raw: contacts.checked_address(raw, check_dns), raw_address),
        phone=_checked(inputs.clean_phone, values.get(ImportField.PHONE, "")),
        language=_language(values.get(ImportField.LANGUAGE, "")),
        switches=tuple(  # type: ignore[arg-type]
            _yes_no(values.get(field, ""), column.get(field, "")) for field in SWITCH_FIELDS
        ),
        test_client=_yes_no(
            values.get(ImportField.TEST_CLIENT, ""), column.get(ImportField.TEST_CLIENT, "")
        ),
        assignees=_assignees(values.get(ImportField.ASSIGNED_TO, ""), members),
    )


def _checked(check: Any, raw: str) -> str:
    """`check(raw)` (a service's input check), its DomainError as the row's problem; an
    empty optional value stays empty."""
    if not raw:
        return ""
    try:
        return check(raw)
    except DomainError as error:
        raise RowProblem(error.message, **error.params) from None


def _contact_name(values: Mapping[ImportField, str]) -> str:
    name = values.get(ImportField.CONTACT_NAME, "")
    if not name:
        parts = (values.get(ImportField.FIRST_NAME, ""), values.get(ImportField.LAST_NAME, ""))
        name = " ".join(part for part in parts if part)
    return _checked(inputs.clean_name, " ".join(name.split()))


def _yes_no(value: str, column: str) -> bool | None:
    if not value:
        return None
    key = _key(value)
    if key in _YES_KEYS:
        return True
    if key in _NO_KEYS:
        return False
    raise RowProblem(NOT_YES_NO, column=column, value=value)


def parse_yes_no(value: str) -> bool | None:
    """A yes/no cell in any of the four languages; None when empty; ValueError otherwise."""
    try:
        return _yes_no(value.strip(), "")
    except RowProblem:
        raise ValueError(value) from None


def _language(value: str) -> str | None:
    if not value:
        return None
    code = _LANGUAGE_KEYS.get(_key(re.split(r"[-_]", value)[0]))
    if code is None or code not in LANGUAGES:
        raise RowProblem(UNKNOWN_LANGUAGE, value=value)
    return code


def _assignees(value: str, members: Mapping[str, int]) -> tuple[int, ...]:
    found: list[int] = []
    for address in _ASSIGNEE_SEPARATORS.split(value.strip()):
        if not address:
            continue
        member_id = members.get(address.lower())
        if member_id is None:
            raise RowProblem(UNKNOWN_ASSIGNEE, address=address)
        if member_id not in found:
            found.append(member_id)
    return tuple(found)


def template() -> str:
    """The template file offered for download: the English headers and two example rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([FIELD_LABELS[field] for field in ImportField])
    writer.writerow(
        [
            "C-1001",
            "Harbour Bakery",
            "Hal Baker",
            "",
            "",
            "hal.baker@example.com",
            "+1 555 010 2231",
            "en",
            "yes",
            "yes",
            "no",
            "yes",
            "no",
            "",
        ]
    )
    writer.writerow(
        [
            "C-1001",
            "Harbour Bakery",
            "",
            "Ivy",
            "Baker",
            "ivy.baker@example.com",
            "",
            "fr",
            "yes",
            "no",
            "no",
            "no",
            "no",
            "",
        ]
    )
    return buffer.getvalue()
