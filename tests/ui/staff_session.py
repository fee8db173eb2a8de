"""Helpers for UI tests of team pages: sign in, wait on a loaded machine, arrange data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from nicegui.testing import User
from sqlalchemy import Engine
from sqlmodel import Session

from portal_ui.config import Settings
from tests.ui.conftest import STAFF_EMAIL, STAFF_PASSWORD

T = TypeVar("T")
RETRIES = 50  # services run in worker threads: leave them time on a busy machine


async def sign_in(user: User, path: str) -> None:
    """Open `path` as the conftest's team member (through /login and back)."""
    await user.open(path)
    user.find("Email").type(STAFF_EMAIL)
    user.find("Password").type(STAFF_PASSWORD)
    user.find("Sign in").click()
    await see(user, "Sign out")


async def see(user: User, target: str | None = None, **filters: str) -> None:
    await user.should_see(target, retries=RETRIES, **filters)


async def not_see(user: User, target: str | None = None, **filters: str) -> None:
    await user.should_not_see(target, retries=RETRIES, **filters)


async def until(condition: Callable[[], object], timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def arrange(engine: Engine, settings: Settings, build: Callable[[Session, Settings], T]) -> T:
    """Run `build(session, settings)` in one committed transaction, before the page opens."""
    with Session(engine, expire_on_commit=False) as session:
        result = build(session, settings)
        session.commit()
    return result
