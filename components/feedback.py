"""Telling people what happened: counts written their way and short notices in the corner."""

from __future__ import annotations

from babel.numbers import format_decimal
from nicegui import ui

from portal_ui.i18n import language


def number(n: int) -> str:
    """A count written the reader's way (1,234 or 1 234)."""
    return format_decimal(n, locale=language())


def counted(message: str, n: int) -> str:
    """`message` (already chosen by ngettext, so the catalogues extract it) with its `{n}`
    written the reader's way."""
    return message.format(n=number(n))


def toast(message: str, *, warning: bool = False) -> None:
    """A short notice in the corner, dark enough for its white text (WCAG AA)."""
    ui.notify(
        message,
        position="bottom-right",
        color="grey-10" if warning else "green-9",
        icon="warning" if warning else "check_circle",
        **({"iconColor": "amber-4"} if warning else {}),
    )
