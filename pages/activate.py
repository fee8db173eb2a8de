"""/activate/{token}: the client sets a password and activates (R15-R18). Opening the page only
checks the link; only submitting the form consumes it, so email scanners cannot burn it."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.formats import full_moment
from components.frame import heading
from components.password_fields import PasswordFields
from components.public_card import public_card
from portal_ui import invitations
from portal_ui.errors import InvalidToken, TokenProblem, TooManyRequests
from portal_ui.i18n import N_, _
from portal_ui.invitations import LinkView
from portal_ui.security import hash_token
from web import runtime, sessions
from web.sign_in import client_address, limited_password

# R16: what each broken link says: a title, what happened, and whether asking the firm for a
# new invitation is the way on (when "Send me a new link" is not offered).
PROBLEMS: dict[TokenProblem, tuple[str, str, bool]] = {
    TokenProblem.UNKNOWN: (
        N_("This link does not work"),
        N_("Check that you copied the whole link from the email."),
        True,
    ),
    TokenProblem.EXPIRED: (
        N_("This link has expired"),
        N_("Invitation links work for a limited time."),
        True,
    ),
    TokenProblem.CANCELLED: (
        N_("This invitation was cancelled"),
        N_(
            "{firm} cancelled this invitation. Contact them if you still need access to the "
            "client portal."
        ),
        False,
    ),
    TokenProblem.SUPERSEDED: (
        N_("This link was replaced"),
        N_(
            "A newer invitation replaced this link. Use the link in the most recent email from "
            "{firm}."
        ),
        True,
    ),
    TokenProblem.USED: (
        N_("This link was already used"),
        N_(
            "This link has already been used to activate a portal access. If that was you, sign "
            "in with your email and password."
        ),
        False,
    ),
}
ASK_FIRM = N_("Ask {firm} for a new invitation.")
RENEW_HINT = N_("You can get a new link, sent to the address this invitation was for.")


@ui.page("/activate/{token}")
async def activate_page(request: Request, token: str) -> None:
    settings = runtime.settings()
    try:
        view = await runtime.call(invitations.check_link, settings, token)
    except InvalidToken as problem:
        sessions.set_language(sessions.visitor_language(request))
        ui.page_title(_(PROBLEMS[problem.problem][0]) + " · " + settings.firm_name)
        with public_card(settings.firm_name) as card:
            _show_problem(card, token, problem)
        return
    sessions.set_language(view.language)
    ui.page_title(_("Activate your access") + " · " + settings.firm_name)
    with public_card(settings.firm_name) as card:
        _show_form(card, token, view, client_address(request))


def _show_form(card: ui.card, token: str, view: LinkView, ip: str) -> None:
    """R17: the firm, the address, the account names, and the two password fields."""
    settings = runtime.settings()

    async def submit() -> None:
        try:
            user = await limited_password(
                fields,
                "activate:" + hash_token(token),
                ip,
                lambda password: runtime.call_hashing(
                    invitations.activate, settings, token, password
                ),
                error,
                button,
            )
        except InvalidToken as problem:
            card.clear()
            with card:
                _show_problem(card, token, problem)
            return
        if user is None:
            return
        await sessions.sign_in(sessions.CLIENT_HOME, portal_user_id=user.id)

    heading(_("Activate your client portal access"))
    ui.label(_("{firm} invited you to its client portal.").format(firm=settings.firm_name))
    with ui.element("dl").classes("m-0 flex flex-col gap-1"):
        _term(_("Email"))
        with ui.element("dd").classes("m-0 mb-2"):
            ui.label(view.address).classes("font-medium break-all").mark("address")
        _term(_("Accounts"))
        with ui.element("dd").classes("m-0"), ui.element("ul").classes("m-0 pl-5 list-disc"):
            for name in view.account_names:
                with ui.element("li"):
                    ui.label(name).classes("font-medium")
    fields = PasswordFields(view.address, on_submit=submit, firm_name=settings.firm_name)
    error = ui.label("").classes("text-red-800").props("role=alert aria-live=assertive")
    button = ui.button(_("Activate"), on_click=submit).props("unelevated no-caps").mark("activate")
    button.classes("w-full")
    expires = full_moment(view.expires_at)
    ui.label(_("This link works once and expires on {moment}.").format(moment=expires)).classes(
        "text-sm text-gray-700"
    )


def _term(text: str) -> None:
    with ui.element("dt").classes("text-sm text-gray-700"):
        ui.label(text)


def _show_problem(card: ui.card, token: str, problem: InvalidToken) -> None:
    """R16: which way the link is broken, what to do next; nothing about any account."""
    firm = runtime.settings().firm_name
    title, explanation, ask_firm = PROBLEMS[problem.problem]
    card.props(f"data-problem={problem.problem.value}")
    heading(_(title))
    ui.label(_(explanation).format(firm=firm)).classes("text-gray-800")
    if problem.problem is TokenProblem.USED:
        ui.link(_("Sign in to the portal"), "/portal/login").classes("text-blue-800 font-medium")
    if problem.can_request_new_link:
        _offer_new_link(token)
    elif ask_firm:
        ui.label(_(ASK_FIRM).format(firm=firm)).classes("text-gray-800")


def _offer_new_link(token: str) -> None:
    """R16 "Send me a new link": a fresh invitation to the same address, at most once an hour."""
    ui.label(_(RENEW_HINT)).classes("text-gray-800")
    outcome = ui.label("").props("role=status aria-live=polite")

    async def renew() -> None:
        button.props("loading")
        try:
            await runtime.call(invitations.request_new_link, runtime.settings(), token)
        except TooManyRequests:
            outcome.classes(replace="text-amber-900")
            outcome.set_text(
                _(
                    "A new link was already sent less than an hour ago. Check your inbox and spam "
                    "folder, or try again later."
                )
            )
            return
        except InvalidToken as problem:
            outcome.classes(replace="text-red-800")
            outcome.set_text(problem.describe(_))
            return
        finally:
            button.props(remove="loading")
        button.delete()
        outcome.classes(replace="text-green-900 font-medium")
        outcome.set_text(
            _(
                "A new link is on its way to the address this invitation was sent to. Open the "
                "most recent email to activate your access."
            )
        )

    button = ui.button(_("Send me a new link"), on_click=renew).props("unelevated no-caps")
    button.classes("w-full")
