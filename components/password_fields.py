""" "Password" and "Confirm password" with the policy of R17 and R38a listed and checked as the
client types; a guessable password shows why and how to do better under its rule."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from nicegui import run, ui

from portal_ui.errors import TooManyRequests
from portal_ui.i18n import N_, _
from portal_ui.security import (
    GUESSABLE,
    IS_ADDRESS,
    MAX_PASSWORD_LENGTH,
    MISMATCH,
    TOO_SHORT,
    PasswordRejected,
    PasswordReview,
    review_password,
)

Handler = Callable[..., Any]
T = TypeVar("T")

# Each rule of R17 and R38a as the client reads it: the problem review_password reports when
# it is broken, a name for tests (the marker "rule-<name>"), and the text.
RULES: tuple[tuple[str, str, str], ...] = (
    (TOO_SHORT, "length", N_("At least 10 characters")),
    (IS_ADDRESS, "address", N_("Not your email address")),
    (GUESSABLE, "common", N_("Not easy to guess")),
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

    def __init__(
        self, address: str, on_submit: Handler | None = None, *, firm_name: str = ""
    ) -> None:
        """`firm_name` is known to attackers too: the same as the service's check gets."""
        self.address = address
        self.firm_name = firm_name
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
                item = ui.element("li").classes("flex flex-col text-sm")
                with item.mark(f"rule-{name}"):
                    with ui.row().classes("items-center gap-2 no-wrap"):
                        icon = ui.icon("radio_button_unchecked", size="1.1rem")
                        label = ui.label(_(text))
                    if problem == GUESSABLE:
                        # R38a: the reason and the hint, under the rule they break.
                        self._advice = ui.label("").classes("ml-7 text-red-800")
                        self._advice.mark("password-advice").set_visibility(False)
                self._rules[problem] = (icon, label, item)
        # Each keystroke starts a check; only the latest one's answer is shown.
        self._checks = 0
        self.password.on_value_change(self._refresh)
        self.confirm.on_value_change(self._refresh)
        self._show("", "", PasswordReview())

    @staticmethod
    def _field(label: str, marker: str, on_submit: Handler | None) -> ui.input:
        field = ui.input(label, password=True, password_toggle_button=True)
        field.props(f"outlined autocomplete=new-password maxlength={MAX_PASSWORD_LENGTH}")
        field.classes("w-full").mark(marker)
        if on_submit is not None:
            field.on("keydown.enter", on_submit)
        return field

    async def review(self, typed: str, confirmed: str) -> PasswordReview:
        """The broken rules and a mismatch (no problems: ready to submit). zxcvbn takes up to
        ~15 ms of pure Python a call: in a worker thread, not on the event loop that serves
        every page (bench/README.md, "Activations")."""
        found = await run.io_bound(review_password, typed, self.address, self.firm_name)
        if found is None:  # NiceGUI runs nothing once the app is stopping
            raise asyncio.CancelledError()
        if typed != confirmed:
            found = dataclasses.replace(found, problems=(*found.problems, MISMATCH))
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
        review = await self.review(typed, self.confirm.value or "")
        if review.problems:
            error.set_text(" ".join(_(text) for text in _explained(review)))
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
            error.set_text(rejected.describe(_))
            return None
        finally:
            if button is not None:
                button.props(remove="loading")

    async def _refresh(self) -> None:
        self._checks += 1
        check = self._checks
        typed, confirmed = self.password.value or "", self.confirm.value or ""
        review = await self.review(typed, confirmed)
        if check == self._checks:  # otherwise a later keystroke's check shows its own answer
            self._show(typed, confirmed, review)

    def _show(self, typed: str, confirmed: str, review: PasswordReview) -> None:
        broken = set(review.problems)
        advice = (review.warning, *review.suggestions) if GUESSABLE in broken and typed else ()
        self._advice.set_text(" ".join(_(text) for text in advice))
        self._advice.set_visibility(bool(advice))
        for problem, (icon, label, item) in self._rules.items():
            started = bool(confirmed) if problem == MISMATCH else bool(typed)
            state = "todo" if not started else ("broken" if problem in broken else "met")
            name, icon_colour, text_colour = _LOOKS[state]
            icon.set_name(name)
            icon.classes(replace=icon_colour)
            label.classes(replace=text_colour)
            item.props(f"data-state={state}")


def _explained(review: PasswordReview) -> list[str]:
    """The broken rules as message ids; a guessable password's with its reason and hint."""
    texts: list[str] = []
    for problem in review.problems:
        if problem == GUESSABLE:
            texts += [review.warning or GUESSABLE, *review.suggestions]
        else:
            texts.append(problem)
    return texts
