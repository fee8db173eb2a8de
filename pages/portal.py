"""The client's portal: /portal/login, the "Forgot password?" flow, and /portal with its account
switcher (R8, R10, R11, R31). Every action checks access afresh."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse
from nicegui import app, ui
from nicegui.events import ValueChangeEventArguments

from components.checked_fields import address_input, name_input
from components.frame import heading
from components.password_fields import PasswordFields
from components.public_card import public_card
from components.sign_in_card import sign_in_card
from portal_ui import portal
from portal_ui.errors import (
    DomainError,
    InvalidAddress,
    InvalidName,
    InvalidToken,
    NoPortalAccess,
    NotFound,
    TokenProblem,
    TooManyRequests,
)
from portal_ui.i18n import N_, _
from portal_ui.inputs import MAX_ADDRESS, parse_id
from portal_ui.portal import PortalHome
from portal_ui.security import hash_token
from web import live, runtime, sessions
from web.sign_in import NOBODY, client_address, limited_password, limited_sign_in

Handler = Callable[..., Any]

# Why the sign-in page was shown instead of the portal (the `reason` query parameter).
REASONS: dict[str, str] = {
    "no-access": NoPortalAccess.message,
    "signed-out": N_("Your session has ended. Please sign in again."),
    "password-changed": N_("Your password was changed. Sign in with your new password."),
}
# A reset link that does not work: a title and why (then: ask for a new one).
RESET_PROBLEMS: dict[TokenProblem, tuple[str, str]] = {
    TokenProblem.UNKNOWN: (
        N_("This link does not work"),
        N_("Check that you copied the whole link from the email."),
    ),
    TokenProblem.EXPIRED: (
        N_("This link has expired"),
        N_("Password reset links work for one hour."),
    ),
    TokenProblem.USED: (
        N_("This link was already used"),
        N_("Each password reset link works once."),
    ),
}


@ui.page("/portal/login")
async def portal_login_page(request: Request, next: str = "", reason: str = "") -> None:
    sessions.set_language(sessions.visitor_language(request))
    if (await sessions.signed_in(request) or NOBODY).portal_user_id is not None:
        ui.navigate.to(sessions.safe_next(next, sessions.CLIENT_HOME))
        return
    settings = runtime.settings()
    ip = client_address(request)

    async def submit() -> None:
        try:
            user = await limited_sign_in(
                "client",
                ip,
                fields,
                lambda address, password: runtime.call_hashing(
                    portal.authenticate_client, address, password
                ),
            )
        except NoPortalAccess as refused:
            fields[2].set_text(refused.describe(_))
            return
        if user is None:
            return
        await sessions.sign_in(next, portal_user_id=user.id)

    ui.page_title(_("Sign in") + " · " + settings.firm_name)
    ui.colors(primary="#1d4ed8")
    fields = sign_in_card(settings.firm_name, submit, _("Client portal"))
    card = fields[0].parent_slot.parent  # sign_in_card's card: our additions go inside it
    with card:
        if reason in REASONS:
            notice = ui.label(_(REASONS[reason])).props("role=status").mark("reason")
            notice.classes("rounded bg-amber-50 text-amber-900 border border-amber-300 p-3")
            notice.move(target_index=2)
        ui.link(_("Forgot password?"), "/portal/forgot").classes("text-blue-800 self-center")


@ui.page("/portal/forgot")
async def forgot_page(request: Request) -> None:
    sessions.set_language(sessions.visitor_language(request))
    settings = runtime.settings()
    ip = client_address(request)
    ui.page_title(_("Reset your password") + " · " + settings.firm_name)

    async def submit() -> None:
        address = (email.value or "").strip()
        if not address:
            outcome.set_text(_("Enter an email address."))
            return
        try:
            await runtime.call(portal.request_password_reset, settings, address, ip)
        except TooManyRequests as refused:
            outcome.set_text(refused.describe(_))
            return
        form.clear()
        with form:
            # The same answer whatever the address: nobody learns who has an account.
            ui.label(
                _(
                    "If {address} has access to the client portal, an email with a link to "
                    "choose a new password is on its way. The link works once, within one hour."
                ).format(address=address)
            ).props("role=status").classes("text-green-900")

    with public_card(settings.firm_name):
        heading(_("Reset your password"))
        with ui.column().classes("w-full gap-4 p-0") as form:
            ui.label(
                _(
                    "Enter the email address you sign in with. We will email you a link to "
                    "choose a new password."
                )
            ).classes("text-gray-700")
            email = ui.input(_("Email")).props(
                f"type=email autocomplete=username outlined maxlength={MAX_ADDRESS}"
            )
            email.classes("w-full").on("keydown.enter", submit)
            outcome = ui.label("").classes("text-red-800").props("role=alert")
            ui.button(_("Send reset link"), on_click=submit).props("unelevated no-caps").classes(
                "w-full"
            )
        ui.link(_("Back to sign-in"), "/portal/login").classes("text-blue-800 self-center")


@ui.page("/portal/reset/{token}")
async def reset_page(request: Request, token: str) -> None:
    sessions.set_language(sessions.visitor_language(request))
    settings = runtime.settings()
    ui.page_title(_("Choose a new password") + " · " + settings.firm_name)
    try:
        address = await runtime.call(portal.check_reset_link, token)
    except InvalidToken as problem:
        with public_card(settings.firm_name) as card:
            _reset_problem(card, problem)
        return
    ip = client_address(request)

    async def submit() -> None:
        try:
            user = await limited_password(
                fields,
                "reset:" + hash_token(token),
                ip,
                lambda password: runtime.call_hashing(
                    portal.reset_password, settings, token, password
                ),
                error,
            )
        except InvalidToken as problem:
            card.clear()
            with card:
                _reset_problem(card, problem)
            return
        if user is None:
            return
        ui.navigate.to(f"{sessions.CLIENT_SIGN_IN}?reason=password-changed")

    with public_card(settings.firm_name) as card:
        heading(_("Choose a new password"))
        ui.label(_("For {address}").format(address=address)).classes("text-gray-700 break-all")
        fields = PasswordFields(address, on_submit=submit, firm_name=settings.firm_name)
        error = ui.label("").classes("text-red-800").props("role=alert")
        ui.button(_("Change password"), on_click=submit).props("unelevated no-caps").classes(
            "w-full"
        )


def _reset_problem(card: ui.card, problem: InvalidToken) -> None:
    title, explanation = RESET_PROBLEMS.get(problem.problem, RESET_PROBLEMS[TokenProblem.UNKNOWN])
    card.props(f"data-problem={problem.problem.value}")
    heading(_(title))
    ui.label(_(explanation)).classes("text-gray-800")
    ui.link(_("Ask for a new link"), "/portal/forgot").classes("text-blue-800 font-medium")


@sessions.client_page("/portal")
async def portal_page(account: str = "") -> RedirectResponse | None:
    user_id = sessions.portal_user_id() or 0
    # An id that is malformed or out of range can match no account (R38); 0 is never an id.
    asked = (parse_id(account) or 0) if account else None
    remembered = app.storage.user.get("portal_account")
    settings = runtime.settings()
    home = await runtime.call(
        portal.portal_home, settings, user_id, asked if asked is not None else remembered
    )
    if home is None or not home.accounts or home.selected is None:
        reason = "signed-out" if home is None else "no-access"
        return RedirectResponse(f"{sessions.CLIENT_SIGN_IN}?reason={reason}")
    app.storage.user["portal_account"] = home.selected[0]
    ui.page_title(home.selected[1] + " · " + settings.firm_name)
    _portal_layout(home, show_unavailable=asked is not None and home.asked_for_unavailable)
    return None


def _portal_layout(home: PortalHome, show_unavailable: bool) -> None:
    settings = runtime.settings()
    assert home.selected is not None
    account_id, account_name = home.selected

    async def recheck() -> PortalHome | None:
        """R11: the session and this account, checked again; if either went away, reload, which
        signs out or shows another account with a notice."""
        fresh = await runtime.call(portal.portal_home, settings, home.portal_user_id, account_id)
        if fresh is None or fresh.asked_for_unavailable:
            ui.navigate.to(f"/portal?account={account_id}")
            return None
        return fresh

    async def switch(event: ValueChangeEventArguments) -> None:
        if event.value != account_id:
            ui.navigate.to(f"/portal?account={event.value}")

    async def sign_out() -> None:
        await sessions.sign_out(sessions.CLIENT_SIGN_IN)

    switcher = _header(home, account_id, switch, sign_out)

    with ui.element("main").classes("w-full max-w-4xl mx-auto px-6 py-8 flex flex-col gap-6"):
        if show_unavailable:
            ui.label(
                _("That account is not available. You are now viewing {account}.").format(
                    account=account_name
                )
            ).props("role=status").mark("unavailable").classes(
                "rounded bg-amber-50 text-amber-900 border border-amber-300 p-3"
            )
        with ui.column().classes("gap-1"):
            heading(account_name).mark("account-name")
            ui.label(_("Your {firm} client portal").format(firm=settings.firm_name)).classes(
                "text-gray-700"
            )

        with ui.card().classes("w-full p-6 gap-3 shadow-sm"):
            heading(_("Your accounts"), level=2)
            accounts_list = ui.column().classes("w-full gap-0")
            _fill_accounts(accounts_list, home.accounts, account_id)

        with ui.card().classes("w-full p-6 gap-3 shadow-sm"):
            _invite_form(home, account_id, account_name, recheck)

    async def refresh() -> None:
        """R10, R11: an account granted or removed meanwhile shows without a reload."""
        fresh = await recheck()
        if fresh is not None:
            switcher.set_options(dict(fresh.accounts), value=account_id)
            _fill_accounts(accounts_list, fresh.accounts, account_id)

    live.on_change(lambda change: change.topic == "account", refresh)


def _header(
    home: PortalHome, account_id: int, on_switch: Handler, on_sign_out: Handler
) -> ui.select:
    """The firm on the left; the account switcher, the client and Sign out on the right."""
    ui.colors(primary="#1d4ed8")
    ui.query("body").classes("bg-gray-50")
    header = ui.header().classes("bg-white text-gray-900 border-b border-gray-200 px-6 py-2")
    with header, ui.row().classes("w-full items-center no-wrap gap-4"):
        with ui.column().classes("gap-0"):
            ui.label(runtime.settings().firm_name).classes("text-lg font-bold text-blue-800")
            ui.label(_("Client portal")).classes("text-xs text-gray-700")
        ui.space()
        switcher = ui.select(
            dict(home.accounts), value=account_id, label=_("Account"), on_change=on_switch
        )
        switcher.props("outlined dense options-dense data-testid=account-switcher")
        switcher.classes("min-w-56")
        with ui.column().classes("gap-0 items-end max-sm:hidden"):
            ui.label(home.person_name).classes("text-sm font-medium")
            ui.label(home.address).classes("text-xs text-gray-700")
        ui.button(_("Sign out"), on_click=on_sign_out).props("flat no-caps color=primary")
    return switcher


def _fill_accounts(container: ui.column, accounts: list[tuple[int, str]], current: int) -> None:
    container.clear()
    with container:
        for account_id, name in accounts:
            with ui.row().classes(
                "w-full items-center justify-between py-3 border-b border-gray-100 last:border-0"
            ):
                ui.label(name).classes("font-medium")
                if account_id == current:
                    ui.label(_("Viewing now")).classes(
                        "text-sm text-green-900 bg-green-100 rounded-full px-3 py-0.5"
                    )
                else:
                    ui.link(_("Open"), f"/portal?account={account_id}").classes(
                        "text-blue-800 font-medium"
                    )


def _invite_form(
    home: PortalHome,
    account_id: int,
    account_name: str,
    recheck: Callable[[], Awaitable[PortalHome | None]],
) -> None:
    """R31: invite another person to this account; they will show as invited by this client."""
    settings = runtime.settings()

    async def invite() -> None:
        name_value, address = (name.value or "").strip(), (email.value or "").strip()
        if not all([name.validate(), email.validate()]):  # R38: said next to each field
            outcome.set_text("")
            return
        if await recheck() is None:
            return
        try:
            await runtime.call(
                portal.invite_person,
                settings,
                home.portal_user_id,
                account_id,
                name_value,
                address,
            )
        except NotFound:
            ui.navigate.to(f"/portal?account={account_id}")
            return
        except (InvalidName, InvalidAddress) as refused:
            (name if isinstance(refused, InvalidName) else email).error = refused.describe(_)
            return
        except DomainError as refused:
            outcome.classes(replace="text-red-800")
            outcome.set_text(refused.describe(_))
            return
        outcome.classes(replace="text-green-900")
        # R37: the same answer whether or not the address already had portal access.
        outcome.set_text(_("We sent an email to {address}.").format(address=address.lower()))
        name.set_value("")
        email.set_value("")
        name.error = None  # an empty form waits for the next person: nothing is wrong yet

    heading(_("Invite someone"), level=2)
    ui.label(
        _(
            "Give another person access to {account}. They will receive an email with a link to "
            "choose a password."
        ).format(account=account_name)
    ).classes("text-gray-700")
    with ui.row().classes("w-full gap-4 items-start"):
        name = name_input(_("Name")).props("outlined autocomplete=off").classes("flex-1 min-w-48")
        email = address_input(_("Email")).props("outlined autocomplete=off")
        email.classes("flex-1 min-w-48").on("keydown.enter", invite)
    outcome = ui.label("").props("role=status aria-live=polite")
    ui.button(_("Send invitation"), on_click=invite).props("unelevated no-caps")
