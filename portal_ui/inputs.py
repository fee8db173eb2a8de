"""The limits and checks of what people type and what URLs carry (R38): names, personalized
messages, addresses and phone numbers, and ids. Services call these checks, so every way in
(pages, the bulk job, an import) refuses the same values with the same domain errors."""

from __future__ import annotations

import re

from portal_ui.errors import InvalidAddress, InvalidName, InvalidPhone, MessageTooLong
from portal_ui.i18n import N_

MAX_NAME = 200
MAX_MESSAGE = 5_000
# RFC 5321 allows 256 octets for a path, angle brackets included: 254 for the address.
MAX_ADDRESS = 254
MAX_PHONE = 50  # characters of a phone field: 20 digits, separators and an extension
# A search matches names and addresses: it is never longer than the longest of them.
MAX_SEARCH = max(MAX_NAME, MAX_ADDRESS)
MIN_PHONE_DIGITS = 5
MAX_PHONE_DIGITS = 20
# PostgreSQL's integer columns are 32-bit (SQLite's 64-bit): a larger id names no row anywhere.
MAX_ID = 2**31 - 1

EMPTY_NAME = InvalidName.message
NAME_TOO_LONG = N_("A name can have at most {limit} characters.")
ADDRESS_TOO_LONG = N_("An email address can have at most {limit} characters.")
EMPTY_PHONE = N_("Enter a phone number.")

# An optional leading "+", then digits, spaces and - ( ) . ; then, optionally, an extension:
# "ext", "ext.", "x" or "#" and 1 to 6 digits.
_PHONE = re.compile(
    r"(?P<number>\+?[0-9 ().\-]+?)\s*(?:(?:ext\.?|x|#)\s*(?P<extension>[0-9]{1,6}))?",
    re.IGNORECASE,
)


def clean_name(raw: str) -> str:
    """A name of an account, a contact or a team member as stored: trimmed, 1 to MAX_NAME
    characters; InvalidName otherwise."""
    name = raw.strip()
    if not name:
        raise InvalidName()
    if len(name) > MAX_NAME:
        raise InvalidName(NAME_TOO_LONG, limit=MAX_NAME)
    return name


def clean_message(raw: str) -> str:
    """A personalized message (R9, R12) as stored: trimmed, at most MAX_MESSAGE characters
    (it may be empty); MessageTooLong otherwise."""
    message = raw.strip()
    if len(message) > MAX_MESSAGE:
        raise MessageTooLong(limit=MAX_MESSAGE)
    return message


def check_address_length(address: str) -> None:
    """InvalidAddress when the address is longer than MAX_ADDRESS. Any address is refused
    beyond it, even where a wrong syntax is kept and marked (R22)."""
    if len(address) > MAX_ADDRESS:
        raise InvalidAddress(ADDRESS_TOO_LONG, limit=MAX_ADDRESS)


def clean_phone(raw: str) -> str:
    """A phone number as stored: trimmed, runs of spaces made one; InvalidPhone unless

    - it has at most MAX_PHONE characters;
    - it is an optional leading "+", then digits, spaces and the separators - ( ) . only;
    - that part has MIN_PHONE_DIGITS to MAX_PHONE_DIGITS digits (5 to 20: short internal
      numbers to the longest international ones, which E.164 caps at 15, with room for
      trunk prefixes);
    - it optionally ends with an extension: "ext", "ext.", "x" or "#", then 1 to 6 digits.

    So "+33 1 23 45 67 89", "(555) 010-2231 ext. 12" and "020.7946.0018" are numbers;
    "call me", "12" and "+1 555 0100 / 0101" are not. No country's plan is checked."""
    number = " ".join(raw.split())
    if not number:
        raise InvalidPhone(EMPTY_PHONE)
    found = _PHONE.fullmatch(number)
    digits = sum(char.isdigit() for char in found["number"]) if found else 0
    if len(number) > MAX_PHONE or not MIN_PHONE_DIGITS <= digits <= MAX_PHONE_DIGITS:
        raise InvalidPhone()
    return number


def parse_id(text: object) -> int | None:
    """The id a URL carries (a path part or a query value), or None when it is malformed or out
    of range (1 to MAX_ID): such an id names nothing, and pages show their not-found page."""
    raw = "" if text is None else str(text)
    # isdecimal accepts other scripts' digits ("١٢"), which int() reads too: ASCII only.
    if not raw.isascii() or not raw.isdecimal() or len(raw) > len(str(MAX_ID)):
        return None
    number = int(raw)
    return number if 1 <= number <= MAX_ID else None
