"""Fields for names, email addresses, phone numbers and messages with R38 at the field: the
length limit shown and enforced (Quasar's maxlength, a counter for messages), and the services'
own check saying what is wrong next to the field before anything is saved."""

from __future__ import annotations

from collections.abc import Callable

from nicegui import ui

from portal_ui import contacts, inputs
from portal_ui.errors import DomainError
from portal_ui.i18n import _

# A service's check of one value: it raises a DomainError saying what is wrong.
Check = Callable[[str], object]
Validation = Callable[[str | None], str | None]
# Builds a field from its label and value (form_dialog.ask_text takes one).
FieldMaker = Callable[[str, str], ui.input]


def problem(check: Check, value: str | None, *, optional: bool = False) -> str | None:
    """What `check` finds wrong with `value`, in the reader's words; None when it is right
    (or blank, for an optional field)."""
    text = value or ""
    if optional and not text.strip():
        return None
    try:
        check(text)
    except DomainError as error:
        return error.describe(_)
    return None


def _validation(check: Check, optional: bool) -> Validation:
    return lambda value: problem(check, value, optional=optional)


def name_input(label: str, value: str = "") -> ui.input:
    """A name (R38: at most inputs.MAX_NAME characters, not blank); checked as typed."""
    field = ui.input(label, value=value, validation=_validation(inputs.clean_name, False))
    return field.props(f"maxlength={inputs.MAX_NAME}")


def address_input(label: str, value: str = "", *, optional: bool = False) -> ui.input:
    """An email address (R38: at most inputs.MAX_ADDRESS characters). Its syntax is checked
    when the person leaves the field, not at each keystroke of an address half typed; the
    service checks it again, with the domain where PORTAL_CHECK_DNS is on, when it saves."""
    field = ui.input(label, value=value, validation=_validation(contacts.checked_address, optional))
    field.without_auto_validation().props(f"type=email maxlength={inputs.MAX_ADDRESS}")
    field.on("blur", lambda: field.validate(return_result=False))
    field.on_value_change(lambda: setattr(field, "error", None))
    return field


def phone_input(label: str, value: str = "", *, optional: bool = False) -> ui.input:
    """A phone number (R38: inputs.clean_phone's rule); checked when the person leaves it."""
    field = ui.input(label, value=value, validation=_validation(inputs.clean_phone, optional))
    field.without_auto_validation().props(f"type=tel maxlength={inputs.MAX_PHONE}")
    field.on("blur", lambda: field.validate(return_result=False))
    field.on_value_change(lambda: setattr(field, "error", None))
    return field


def message_textarea(label: str, placeholder: str = "") -> ui.textarea:
    """A personalized message (R9, R12; R38: at most inputs.MAX_MESSAGE characters, with a
    counter); checked as typed."""
    field = ui.textarea(
        label, placeholder=placeholder, validation=_validation(inputs.clean_message, True)
    )
    return field.props(f"outlined autogrow maxlength={inputs.MAX_MESSAGE} counter")


def search_input(label: str, value: str = "") -> ui.input:
    """A search by name or address: as long as the longest of them, at most."""
    return ui.input(label, value=value).props(f"maxlength={inputs.MAX_SEARCH}")
