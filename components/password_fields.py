""" "Password" and "Confirm password" with R17's policy listed and checked as the client types."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nicegui import run, ui

from portal_ui.errors import TooManyRequests
from portal_ui.i18n import N_, _
from portal_ui.security import (
    IS_ADDRESS,
    MISMATCH,
    TOO_COMMON,
    TOO_SHORT,
    PasswordRejected,
    password_problems,
)

Handler = Callable[..., Any]
T = TypeVar("T")

# Each rule of R17 as the client reads it: the problem password_problems reports when it is
# broken, a name for tests (the marker "rule-<name>"), and the text.
RULES: tuple[tuple[str, str, str], ...] = (
    (TOO_SHORT, "length", N_("At least 10 characters")),
    (IS_ADDRESS, "address", N_("Not your email address")),
    (TOO_COMMON, "common", N_("Not a common or easily guessed password")),
    (MISMATCH, "match", N_("Both passwords match")),
)
# Icon shape as well as colour tells the state, so it never depends on colour alone.
_LOOKS = {
    "todo": ("radio_button_unchecked", "text-gray-500", "text-gray-700"),
    "met": ("check_circle", "text-green-700", "text-green-900"),
    "broken": ("cancel", "text-red-700", "text-red-800"),
}


class PasswordFields:
    """The two fields and the rule list; `submit()` checks them and saves the password."""

    def __init__(self, address: str, on_submit: Handler | None = None) -> None:
        self.address = address
        self.password = self._field(_("Password"), "password", on_submit)
        self.confirm = self._field(_("Confirm password"), "confirm-password", on_submit)
        ui.label(_("Your password must meet these rules:")).classes("text-sm text-gray-700")
        self._rules: dict[str, tuple[ui.icon, ui.label, ui.element]] = {}
        with (
            ui.element("ul")
            .classes("list-none m-0 p-0 flex flex-col gap-1")
            .props('aria-live="polite"')
        ):
            for problem, name, text in RULES:
                item = ui.element("li").classes("flex items-center gap-2 text-sm")
                with item.mark(f"rule-{name}"):
                    icon = ui.icon("radio_button_unchecked", size="1.1rem")
                    label = ui.label(_(text))
                self._rules[problem] = (icon, label, item)
        # Each keystroke starts a check; only the latest one's answer is shown.
        self._checks = 0
        self.password.on_value_change(self._refresh)
        self.confirm.on_value_change(self._refresh)
        self._show("", "", set())

    @staticmethod
    def _field(label: str, marker: str, on_submit: Handler | None) -> ui.input:
        field = ui.input(label, password=True, password_toggle_button=True)
        field.props("outlined autocomplete=new-password").classes("w-full").mark(marker)
        if on_submit is not None:
            field.on("keydown.enter", on_submit)
        return field

    async def problems(self, typed: str, confirmed: str) -> list[str]:
        """R17's broken rules and a mismatch, as message ids (empty: ready to submit). zxcvbn
        takes up to ~15 ms of pure Python a call: in a worker thread, not on the event loop that
        serves every page (bench/README.md, "Activations")."""
        found = await run.io_bound(password_problems, typed, self.address)
        if found is None:  # NiceGUI runs nothing once the app is stopping
            raise asyncio.CancelledError()
        if typed != confirmed:
            found.append(MISMATCH)
        return found

    async def submit(
        self,
        save: Callable[[str], Awaitable[T]],
        error: ui.label,
        allowed: Callable[[], Awaitable[bool]],
        button: ui.button | None = None,
    ) -> T | None:
        """Check R17 as typed, then count the attempt (`allowed()`: False over the limit, R33),
        then `save` the typed password; None when refused, with the reason in `error`."""
        # The password checked is the one saved, even if the fields change meanwhile.
        typed = self.password.value or ""
        problems = await self.problems(typed, self.confirm.value or "")
        if problems:
            error.set_text(" ".join(_(problem) for problem in problems))
            return None
        if not await allowed():
            error.set_text(_(TooManyRequests.message))
            return None
        error.set_text("")
        if button is not None:
            button.props("loading")
        try:
            return await save(typed)
        except PasswordRejected as rejected:
            error.set_text(_(rejected.reason))
            return None
        finally:
            if button is not None:
                button.props(remove="loading")

    async def _refresh(self) -> None:
        self._checks += 1
        check = self._checks
        typed, confirmed = self.password.value or "", self.confirm.value or ""
        broken = set(await self.problems(typed, confirmed))
        if check == self._checks:  # otherwise a later keystroke's check shows its own answer
            self._show(typed, confirmed, broken)

    def _show(self, typed: str, confirmed: str, broken: set[str]) -> None:
        for problem, (icon, label, item) in self._rules.items():
            started = bool(confirmed) if problem == MISMATCH else bool(typed)
            state = "todo" if not started else ("broken" if problem in broken else "met")
            name, icon_colour, text_colour = _LOOKS[state]
            icon.set_name(name)
            icon.classes(replace=icon_colour)
            label.classes(replace=text_colour)
            item.props(f"data-state={state}")
