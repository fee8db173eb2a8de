"""/clients/{account_id}/info: the profile's Info tab (R4, R5, R9-R11, R22, R25-R27a), kept
current while other sessions change the account."""

from __future__ import annotations

from nicegui import ui

from components.access_row import AccessRowActions, AccessRowElement, edit_preferences, show_history
from components.assign_members_dialog import ask_assigned_members
from components.checked_fields import address_input, phone_input
from components.confirm import confirm
from components.contact_card import ContactActions, contact_card
from components.contact_dialogs import FieldErrors, NewContact, ask_link_contact, ask_new_contact
from components.dialog import modal
from components.form_dialog import ask_text
from components.frame import heading
from components.login_dialog import ask_login_choice
from components.new_account_dialog import new_account_button
from components.status_badge import status_badge
from portal_ui import access_rows, activity, contacts, invitations, profile, staff
from portal_ui.accounts import AccountHeader
from portal_ui.activity import Actor
from portal_ui.errors import DomainError, NotFound
from portal_ui.events import Change
from portal_ui.i18n import N_, _
from portal_ui.inputs import parse_id
from portal_ui.models import AccessState
from portal_ui.profile import AddressView, ContactMatch, ContactView, FieldRejected, Profile
from web import accounts as web_accounts
from web import live, runtime
from web.layout import staff_layout
from web.not_found import staff_not_found
from web.sessions import staff_page

# The changes that concern a profile (events.Change topics).
TOPICS = frozenset({"access", "invitation", "account", "activity"})


def _message(error: Exception) -> str:
    """A domain error, or a service's ValueError carrying a message id, in the reader's words."""
    return error.describe(_) if isinstance(error, DomainError) else _(str(error))


def _notify_error(error: Exception) -> None:
    ui.notify(_message(error), type="negative", multi_line=True)


def _structure(view: Profile) -> tuple:
    """What decides the section's layout; other changes are shown in place."""
    return tuple(
        (c.id, c.name, c.language, c.phones, tuple(a.email_id for a in c.addresses))
        for c in view.contacts
    )


class ProfilePage:
    """The Info tab of one account for one team member."""

    def __init__(self, account_id: int, actor: Actor, view: Profile) -> None:
        self.account_id = account_id
        self.actor = actor
        self.view = view
        self.rows: dict[int, AccessRowElement] = {}
        self.row_actions = AccessRowActions(
            login=self.set_login,
            switch=self.set_switch,
            send_invitation=self.send_invitation,
            cancel_invitation=self.cancel_invitation,
            preferences=self.edit_preferences,
            history=self.show_history,
            change_address=self.change_address,
        )
        self.contact_actions = ContactActions(
            add_address=self.add_address, add_phone=self.add_phone, unlink=self.unlink
        )
        self.header_box = ui.element("section").classes("w-full")
        self.header_box.props["aria-label"] = _("Account")
        with ui.element("section").classes("w-full flex flex-col gap-3") as contacts_section:
            title = self._contacts_toolbar()
            contacts_section.props["aria-labelledby"] = title.html_id
            self.contacts_box = ui.column().classes("w-full gap-4")
        self._show_header(view.header)
        self._rebuild_contacts(view)

    # Layout ---------------------------------------------------------------------------------

    def _show_header(self, header: AccountHeader) -> None:
        self.header_box.clear()
        with self.header_box, ui.card().props("flat bordered").classes("w-full p-4 gap-3"):
            with ui.row().classes("w-full items-center gap-3"):
                status_badge(header.status)
                if header.is_test_client:
                    chip = ui.label(_("Test client")).classes(
                        "rounded-full px-2.5 py-0.5 text-xs font-medium bg-violet-100 "
                        "text-violet-900 ring-1 ring-inset ring-violet-500"
                    )
                    chip.props["data-testid"] = "test-client"
                    chip.mark("test-client")
                ui.space()
                ui.link(_("Activity"), f"/activity?account={self.account_id}").classes(
                    "text-blue-800 px-2"
                )
                new_account_button(web_accounts.create_account).props("outline").props(
                    remove="unelevated"
                )
            with ui.row().classes("w-full items-center gap-x-6 gap-y-2"):
                with ui.row().classes("items-center gap-2"):
                    ui.label(_("Assigned to:")).classes("text-sm text-gray-700")
                    names = ", ".join(member.name for member in header.assigned)
                    ui.label(names or _("Nobody")).classes("text-sm text-gray-900").mark(
                        "assigned-names"
                    )
                    edit = ui.button(icon="edit", on_click=self.edit_assigned)
                    edit.props("flat round dense color=primary").mark("edit-assigned")
                    edit.props["aria-label"] = _("Edit assigned team members")
                ui.space()
                ui.switch(
                    _("Test client"), value=header.is_test_client, on_change=self._test_client
                ).props("dense").mark("test-client-switch")

    def _contacts_toolbar(self) -> ui.element:
        with ui.row().classes("w-full items-center gap-2 mt-2"):
            title = heading(_("Contacts"), level=2)
            ui.space()
            ui.button(_("Link existing contact"), icon="link", on_click=self.link_contact).props(
                "outline no-caps color=primary"
            ).mark("link-contact")
            ui.button(_("New contact"), icon="person_add", on_click=self.new_contact).props(
                "unelevated no-caps color=primary"
            ).mark("new-contact")
        return title

    def _rebuild_contacts(self, view: Profile) -> None:
        self.contacts_box.clear()
        self.rows = {}
        with self.contacts_box:
            if not view.contacts:
                with ui.card().props("flat bordered").classes("w-full p-6 items-center"):
                    ui.label(_("No contact is linked to this account yet.")).classes(
                        "text-gray-700"
                    )
            for contact in view.contacts:
                contact_card(contact, self.contact_actions, self.row_actions, self.rows)

    def show(self, view: Profile) -> None:
        """Show a newer view: in place when only settings and states changed."""
        previous, self.view = self.view, view
        if view.header != previous.header:
            self._show_header(view.header)
        if _structure(view) != _structure(previous):
            self._rebuild_contacts(view)
            return
        for contact in view.contacts:
            for address in contact.addresses:
                self.rows[address.email_id].update_view(address)

    async def refresh(self) -> None:
        try:
            view = await runtime.call(profile.profile, self.account_id)
        except NotFound:
            ui.navigate.to("/clients/accounts")
            return
        self.show(view)

    def wants(self, change: Change) -> bool:
        if change.topic not in TOPICS:
            return False
        if not change.account_ids:
            # Only a refresh of every account names none; events about an address (an
            # invitation) come with an "invitation" change naming its accounts.
            return change.topic == "account"
        return self.account_id in change.account_ids

    # Access rows (R9-R11, R25, R27, R27a) ----------------------------------------------------

    async def set_login(self, view: AddressView, on: bool) -> None:
        send, message = False, ""
        if not on and view.state is AccessState.ACTIVE and not await self._confirm_revoke(view):
            await self.refresh()  # the switch shows Login on again
            return
        if on and not view.activated:
            choice = await modal(ask_login_choice(view.address))
            if choice is None:
                return  # closed without a choice: Login stays off (R9)
            send, message = choice.send, choice.message
        refused = send and bool(view.invalid_reason)
        try:
            await runtime.call(
                access_rows.set_login,
                runtime.settings(),
                self.account_id,
                view.email_id,
                on,
                self.actor,
                send_invitation=send and not refused,
                message=message,
            )
        except (DomainError, ValueError) as error:
            _notify_error(error)
            return
        if refused:  # R22: reported, never silently dropped
            ui.notify(
                _("Login is on, but no invitation was sent: {reason}").format(
                    reason=view.invalid_reason
                ),
                type="warning",
                multi_line=True,
            )
        elif send:
            ui.notify(_("Invitation sent to {address}").format(address=view.address))
        await self.refresh()

    async def _confirm_revoke(self, view: AddressView) -> bool:
        """R11 takes the account from the client's portal at once: ask first, naming both."""
        account = self.view.header.name
        question = _("Remove {address}'s access to {account}?").format(
            address=view.address, account=account
        )
        detail = _(
            "{address} will no longer see {account} in the client portal. Their other "
            "accounts and this account's data stay as they are."
        ).format(address=view.address, account=account)
        return await modal(confirm(question, _("Remove access"), detail=detail, danger=True))

    async def set_switch(self, view: AddressView, switch: str, on: bool) -> None:
        try:
            await runtime.call(
                access_rows.set_switch, self.account_id, view.email_id, switch, on, self.actor
            )
        except (DomainError, ValueError) as error:
            _notify_error(error)
        await self.refresh()

    async def send_invitation(self, view: AddressView) -> None:
        resend = view.has_outstanding_invitation
        try:
            await runtime.call(
                invitations.send_invitation, runtime.settings(), view.email_id, self.actor
            )
        except DomainError as error:
            _notify_error(error)
            return
        text = _("Invitation resent to {address}") if resend else _("Invitation sent to {address}")
        ui.notify(text.format(address=view.address), type="positive")
        await self.refresh()

    async def cancel_invitation(self, view: AddressView) -> None:
        question = _("Cancel the invitation to {address}?").format(address=view.address)
        detail = _("The link in the email stops working. Login stays on.")
        if not await modal(confirm(question, _("Cancel invitation"), detail=detail, danger=True)):
            return
        try:
            await runtime.call(invitations.cancel_invitation, view.email_id, self.actor)
        except DomainError as error:
            _notify_error(error)
            return
        ui.notify(_("Invitation cancelled"), type="positive")
        await self.refresh()

    async def edit_preferences(self, view: AddressView) -> None:
        async def save(preferences: dict[str, bool]) -> bool:
            try:
                await runtime.call(
                    access_rows.set_preferences,
                    self.account_id,
                    view.email_id,
                    preferences,
                    self.actor,
                )
            except (DomainError, ValueError) as error:
                _notify_error(error)
                return False
            ui.notify(_("Notification preferences saved"), type="positive")
            return True

        await modal(edit_preferences(view.address, view.preferences, save))
        await self.refresh()

    async def show_history(self, view: AddressView) -> None:
        history = await runtime.call(activity.invitation_history, view.email_id)
        await modal(show_history(view.address, history))

    async def change_address(self, view: AddressView) -> None:
        async def submit(value: str) -> str | None:
            try:
                await runtime.call(
                    contacts.change_address,
                    runtime.settings(),
                    view.email_id,
                    value,
                    self.actor,
                    refuse_invalid=True,
                )
            except (DomainError, ValueError) as error:
                return _message(error)
            return None

        detail = _(
            "The new address takes this one's settings on every account. An outstanding "
            "invitation goes to the new address; an activated address keeps working until the "
            "new one is activated."
        )
        title = _("Change address")
        changed = ask_text(
            title,
            _("New email address"),
            submit,
            value=view.address,
            detail=detail,
            make_field=address_input,
        )
        if await modal(changed):
            ui.notify(_("Address changed"), type="positive")
        await self.refresh()

    # Contacts (R1, R26) ----------------------------------------------------------------------

    async def add_address(self, contact: ContactView) -> None:
        async def submit(value: str) -> str | None:
            try:
                await runtime.call(
                    contacts.add_address,
                    runtime.settings(),
                    contact.id,
                    value,
                    refuse_invalid=True,
                )
            except (DomainError, ValueError) as error:
                return _message(error)
            return None

        title = _("Add an address for {name}").format(name=contact.name)
        await modal(
            ask_text(
                title, _("Email address"), submit, submit_label=_("Add"), make_field=address_input
            )
        )
        await self.refresh()

    async def add_phone(self, contact: ContactView) -> None:
        async def submit(value: str) -> str | None:
            try:
                await runtime.call(contacts.add_phone, contact.id, value)
            except (DomainError, ValueError) as error:
                return _message(error)
            return None

        title = _("Add a phone for {name}").format(name=contact.name)
        await modal(
            ask_text(title, _("Phone"), submit, submit_label=_("Add"), make_field=phone_input)
        )
        await self.refresh()

    async def unlink(self, contact: ContactView) -> None:
        question = _("Unlink {name} from this account?").format(name=contact.name)
        detail = _(
            "Their addresses lose Login, Notify, Email sync and Signatory on this account. "
            "The contact and their other accounts stay as they are."
        )
        if not await modal(confirm(question, _("Unlink"), detail=detail, danger=True)):
            return
        try:
            await runtime.call(contacts.unlink_contact, self.account_id, contact.id, self.actor)
        except DomainError as error:
            _notify_error(error)
            return
        ui.notify(_("{name} unlinked").format(name=contact.name), type="positive")
        await self.refresh()

    async def new_contact(self) -> None:
        async def submit(form: NewContact) -> FieldErrors | None:
            try:
                await runtime.call(
                    profile.create_linked_contact,
                    runtime.settings(),
                    self.account_id,
                    form.name,
                    form.addresses,
                    form.phones,
                    form.language,
                )
            except FieldRejected as error:
                return {error.field: error.describe(_)}
            except (DomainError, ValueError) as error:
                return {"name": _message(error)}
            return None

        if await modal(ask_new_contact(submit, runtime.settings().firm_language)):
            ui.notify(_("Contact created and linked"), type="positive")
        await self.refresh()

    async def link_contact(self) -> None:
        async def search(term: str) -> list[ContactMatch]:
            return await runtime.call(profile.find_contacts, term, self.account_id)

        async def link(match: ContactMatch) -> str | None:
            try:
                await runtime.call(contacts.link_contact, self.account_id, match.id)
            except DomainError as error:
                return _message(error)
            return None

        if await modal(ask_link_contact(search, link)):
            ui.notify(_("Contact linked"), type="positive")
        await self.refresh()

    # Account (R4, R5) ------------------------------------------------------------------------

    async def _test_client(self, event) -> None:  # noqa: ANN001 (NiceGUI event)
        if bool(event.value) == self.view.header.is_test_client:
            return
        await runtime.call(contacts.set_test_client, self.account_id, bool(event.value))
        await self.refresh()

    async def edit_assigned(self) -> None:
        members = await runtime.call(staff.list_members)
        choices = {member.id or 0: member.name for member in members}
        assigned = [member.id for member in self.view.header.assigned]

        async def save(member_ids: list[int]) -> bool:
            try:
                await runtime.call(contacts.assign_members, self.account_id, member_ids)
            except DomainError as error:
                _notify_error(error)
                return False
            return True

        if await modal(ask_assigned_members(choices, assigned, save)):
            ui.notify(_("Assigned team members saved"), type="positive")
        await self.refresh()


@staff_page("/clients/{account_id}/info")
async def profile_page(account_id: str) -> None:
    parsed = parse_id(account_id)
    try:
        view = await runtime.call(profile.profile, parsed) if parsed is not None else None
    except NotFound:
        view = None
    if view is None:
        await staff_not_found(
            title=N_("Account not found"),
            explanation=N_("This account does not exist, or it was deleted."),
        )
        return
    ui.page_title(f"{view.header.name} · {runtime.settings().firm_name}")
    async with staff_layout(view.header.name, "accounts") as member_id:
        actor = await runtime.call(staff.actor_of, member_id)
        page = ProfilePage(view.header.id, actor, view)
        live.on_change(page.wants, page.refresh)
