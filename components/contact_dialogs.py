"""Dialogs of the profile's Contacts section (R26): create a contact and link it, or find an
existing contact and link it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nicegui import ui

from components.checked_fields import address_input, name_input, phone_input, search_input
from components.dialog import answer, dialog_buttons, titled_dialog
from portal_ui.i18n import LANGUAGES, _
from portal_ui.profile import ContactMatch

# Field errors by key: "name", "language", "address:<n>", "phone:<n>".
FieldErrors = dict[str, str]


@dataclass(frozen=True)
class NewContact:
    name: str
    addresses: list[str]
    phones: list[str]
    language: str | None


class _Repeated:
    """A growing list of one-line inputs ("Email address", "Phone"), one value each; each
    checks its value (R38), and a blank one is skipped."""

    def __init__(self, label: str, add_label: str, key: str, make: Callable[..., ui.input]) -> None:
        self.label, self.key, self.make = label, key, make
        self.inputs: list[ui.input] = []
        self.box = ui.column().classes("w-full gap-2")
        ui.button(add_label, icon="add", on_click=self.add).props(
            "flat dense no-caps color=primary"
        ).mark(f"add-{key}-field")
        self.add()

    def add(self) -> None:
        with self.box:
            number = len(self.inputs) + 1
            label = self.label if number == 1 else f"{self.label} {number}"
            field = self.make(label, optional=True).props("outlined dense").classes("w-full")
            field.mark(f"{self.key}-{len(self.inputs)}")
            self.inputs.append(field)
        if number > 1:
            field.run_method("focus")

    def values(self) -> list[str]:
        return [(field.value or "").strip() for field in self.inputs]

    def validate(self) -> bool:
        """Check every field (each shows its own problem); True when all are right."""
        return all([field.validate() for field in self.inputs])

    def show_errors(self, errors: FieldErrors) -> None:
        for index, field in enumerate(self.inputs):
            field.error = errors.get(f"{self.key}:{index}")


async def ask_new_contact(
    submit: Callable[[NewContact], Awaitable[FieldErrors | None]], firm_language: str
) -> bool:
    """R26: name, addresses, phones and language; the errors `submit` returns appear next to
    their fields and the dialog stays open. True once the contact was created."""
    with titled_dialog(_("New contact"), "max-w-lg") as dialog:
        name = name_input(_("Name")).props("outlined autofocus").classes("w-full")
        name.mark("contact-name")
        addresses = _Repeated(
            _("Email address"), _("Add another address"), "address", address_input
        )
        phones = _Repeated(_("Phone"), _("Add another phone"), "phone", phone_input)
        default = _("Firm's language ({language})").format(language=LANGUAGES[firm_language])
        language = ui.select({"": default, **LANGUAGES}, value="", label=_("Language"))
        language.props("outlined").classes("w-full").mark("contact-language")

        async def save() -> None:
            # R38: every field says what is wrong with it before anything is saved.
            if not all([name.validate(), addresses.validate(), phones.validate()]):
                return
            button.disable()
            try:
                errors = await submit(
                    NewContact(
                        name=(name.value or "").strip(),
                        addresses=addresses.values(),
                        phones=phones.values(),
                        language=language.value or None,
                    )
                )
            finally:
                button.enable()
            if not errors:
                dialog.submit(True)
                return
            name.error = errors.get("name")
            language.error = errors.get("language")
            addresses.show_errors(errors)
            phones.show_errors(errors)

        button = dialog_buttons(dialog, _("Create and link"), save, "contact-submit")
    return bool(await answer(dialog))


async def ask_link_contact(
    search: Callable[[str], Awaitable[list[ContactMatch]]],
    link: Callable[[ContactMatch], Awaitable[str | None]],
) -> bool:
    """R26: find a contact by name or address and link it; `link` returns an error or None.
    True once a contact was linked."""
    with titled_dialog(_("Link an existing contact"), "max-w-xl") as dialog:
        query = search_input(_("Search by name or email address"))
        query.props("outlined autofocus debounce=250 clearable type=search").classes("w-full")
        query.mark("contact-search")
        status = ui.label("").classes("text-sm text-gray-700").props("aria-live=polite")
        results = ui.column().classes("w-full gap-0")

        async def choose(match: ContactMatch) -> None:
            error = await link(match)
            if error:
                status.set_text(error)
                status.classes(replace="text-sm text-red-800")
            else:
                dialog.submit(True)

        async def find() -> None:
            term = (query.value or "").strip()
            results.clear()
            if not term:
                status.set_text("")
                return
            matches = await search(term)
            status.set_text(
                _("No contact matches.")
                if not matches
                else _("{count} found").format(count=len(matches))
            )
            with results:
                for match in matches:
                    _match_row(match, choose)

        query.on_value_change(find)
        with ui.row().classes("w-full justify-end"):
            ui.button(_("Cancel"), on_click=lambda: dialog.submit(False)).props(
                "flat no-caps color=primary"
            )
    return bool(await answer(dialog))


def _match_row(match: ContactMatch, choose: Callable[[ContactMatch], Awaitable[None]]) -> None:
    with ui.row().classes("w-full items-center no-wrap gap-4 py-2 border-b border-gray-100"):
        with ui.column().classes("gap-0 grow min-w-0"):
            ui.label(match.name).classes("font-medium text-gray-900")
            ui.label(", ".join(match.addresses) or _("No email address")).classes(
                "text-sm text-gray-700 break-all"
            )
        if match.linked:
            ui.label(_("Already linked")).classes("text-sm text-gray-700 whitespace-nowrap")
            return

        async def pick() -> None:
            await choose(match)

        button = ui.button(_("Link"), on_click=pick).props("outline no-caps color=primary")
        button.props["aria-label"] = _("Link {name}").format(name=match.name)
        button.mark(f"link-contact-{match.id}")
