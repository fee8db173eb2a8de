"""The staff layout: the frame filled with the signed-in member and a live Inbox+ count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nicegui import ui
from sqlmodel import Session

from components.frame import heading, set_unread, staff_frame
from pages import live, runtime, sessions
from portal_ui import activity, i18n, staff
from portal_ui.models import TeamMember


def _member_and_unread(session: Session, member_id: int) -> tuple[TeamMember | None, int]:
    return session.get(TeamMember, member_id), activity.unread_count(session, member_id)


async def _sign_out() -> None:
    await sessions.sign_out(sessions.STAFF_SIGN_IN)


@asynccontextmanager
async def staff_layout(title: str, active: str) -> AsyncIterator[int]:
    """Yields the signed-in member's id inside the page's main column, under its one <h1>."""
    member_id = sessions.staff_member_id() or 0
    member, unread = await runtime.call(_member_and_unread, member_id)
    name = member.name if member else ""
    language = i18n.language()  # the member's, set when the page opened (pages.sessions)

    async def change_language(code: str) -> None:
        await runtime.call(staff.set_language, member_id, code)
        sessions.set_language(code)
        ui.navigate.reload()

    with staff_frame(
        firm_name=runtime.settings().firm_name,
        member_name=name,
        unread=unread,
        active=active,
        language=language,
        on_language=change_language,
        on_sign_out=_sign_out,
    ) as badge:

        async def refresh_badge() -> None:
            set_unread(badge, await runtime.call(activity.unread_count, member_id))

        live.on_change(
            lambda change: change.topic == "inbox" and member_id in change.member_ids,
            refresh_badge,
        )
        heading(title)
        yield member_id
