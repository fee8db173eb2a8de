"""Translations: gettext catalogues (.po, compiled by Babel on first use) for en, fr, es, it.

`_()` translates into the current reader's language, which the web app resolves per browser
client; `translator(lang)` gives a gettext for an explicit language (emails, commands).
"""

from __future__ import annotations

import gettext as gettext_module
from collections.abc import Callable
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES: dict[str, str] = {"en": "English", "fr": "Français", "es": "Español", "it": "Italiano"}
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).with_name("locale")

Translate = Callable[[str], str]

# Set per request/task where no resolver applies (commands, tests, service code).
current_language: ContextVar[str | None] = ContextVar("current_language", default=None)
_resolver: Callable[[], str | None] = lambda: None  # noqa: E731


def set_language_resolver(resolver: Callable[[], str | None]) -> None:
    """The web app installs a function that reads the language of the browser client in context."""
    global _resolver
    _resolver = resolver


def language() -> str:
    lang = current_language.get() or _resolver() or DEFAULT_LANGUAGE
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


@cache
def _catalogue(lang: str) -> gettext_module.NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return gettext_module.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=lang)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext_module.GNUTranslations(buffer)


def translator(lang: str | None) -> Translate:
    """gettext for one language (unknown languages fall back to English)."""
    return _catalogue(lang if lang in LANGUAGES else DEFAULT_LANGUAGE).gettext


def _(message: str) -> str:
    """Translate `message` into the current reader's language."""
    return translator(language())(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    return _catalogue(language()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now (it is translated when shown)."""
    return message
