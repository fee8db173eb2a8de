"""Every user-facing string exists in French, Spanish and Italian (R31a)."""

import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from portal_ui.i18n import translator

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ("fr", "es", "it")
PLACEHOLDER = re.compile(r"\{(\w*)\}")


def _source_messages() -> set[str]:
    """What the code asks to translate now, extracted the way `make messages` does."""
    method_map = [
        ("portal_ui/**.py", "python"),
        ("pages/**.py", "python"),
        ("components/**.py", "python"),
        ("web/**.py", "python"),
        ("portal_ui/mail/templates/**.txt", "jinja2"),
        ("portal_ui/mail/templates/**.html", "jinja2"),
    ]
    keywords = {"_": None, "N_": None, "ngettext": (1, 2)}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords=keywords
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalogue(language: str):
    with (ROOT / "portal_ui/locale" / language / "LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


@pytest.mark.parametrize("language", LOCALES)
def test_every_string_of_the_code_is_translated(language):  # R31a
    catalogue = _catalogue(language)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.string}
    missing = sorted(_source_messages() - translated)
    assert missing == [], f"{len(missing)} strings lack a {language} translation: {missing[:10]}"


@pytest.mark.parametrize("language", LOCALES)
def test_translations_keep_every_placeholder(language):  # R31a
    for message in _catalogue(language):
        if not message.id or not message.string or not isinstance(message.id, str):
            continue
        assert set(PLACEHOLDER.findall(message.id)) == set(PLACEHOLDER.findall(message.string)), (
            message.id
        )
        list(string.Formatter().parse(message.string))  # well-formed braces


def test_the_product_speaks_the_seeds_vocabulary():  # R31a
    assert translator("fr")("Pending activation") == "Activation en attente"
    assert translator("es")("Pending activation") == "Activación pendiente"
    assert translator("it")("Pending activation") == "Attivazione in sospeso"
