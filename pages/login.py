"""/login: team member sign-in, limited (R33), never saying whether an address exists."""

from __future__ import annotations

from fastapi import Request
from nicegui import ui

from components.sign_in_card import sign_in_card
from portal_ui import staff
from portal_ui.i18n import _
from web import runtime, sessions
from web.sign_in import NOBODY, client_address, limited_sign_in


@ui.page("/login")
async def login_page(request: Request, next: str = "") -> None:
    sessions.set_language(sessions.visitor_language(request))
    if (await sessions.signed_in(request) or NOBODY).member_id is not None:
        ui.navigate.to(sessions.safe_next(next, sessions.STAFF_HOME))
        return
    ip = client_address(request)

    async def submit() -> None:
        member = await limited_sign_in(
            "staff",
            ip,
            fields,
            lambda address, password: runtime.call_hashing(staff.authenticate, address, password),
        )
        if member is None:
            return
        sessions.set_language(member.language)
        await sessions.sign_in(next, member_id=member.id)

    ui.page_title(_("Sign in") + " · " + runtime.settings().firm_name)
    fields = sign_in_card(runtime.settings().firm_name, submit, _("Team sign-in"))
