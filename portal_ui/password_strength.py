"""How guessable a password is (R38a): zxcvbn's score, and its feedback as our message ids.

zxcvbn words its feedback in English only (its feedback.py calls gettext with no catalogue of
its own), so each of its sentences maps to a message id of ours, which our catalogues translate;
a sentence a later zxcvbn adds falls back to a generic one of ours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from zxcvbn import zxcvbn

from portal_ui.i18n import N_

# zxcvbn's scores: 0-2 are under 10^8 guesses ("too guessable", "very guessable", "somewhat
# guessable"); 3 is "safely unguessable: moderate protection from an offline slow-hash
# scenario", which is ours (Argon2id).
MIN_SCORE = 3
# zxcvbn's time grows quickly with the length; a longer password is rated on its beginning.
ESTIMATED_LENGTH = 64

GENERIC_WARNING = N_("This password is easy to guess.")
GENERIC_HINT = N_("Use a few uncommon words, or a longer password.")
# zxcvbn gives no warning when the guessable part is one of the user inputs.
PERSONAL_WARNING = N_("Your email address or the firm's name makes it easy to guess.")

# Every sentence of zxcvbn 4.5's feedback.py: warnings, then suggestions.
FEEDBACK: dict[str, str] = {
    "Straight rows of keys are easy to guess.": N_("Straight rows of keys are easy to guess."),
    "Short keyboard patterns are easy to guess.": N_("Short keyboard patterns are easy to guess."),
    'Repeats like "aaa" are easy to guess.': N_('Repeats like "aaa" are easy to guess.'),
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': N_(
        'Repeats like "abcabcabc" are only slightly harder to guess than "abc".'
    ),
    'Sequences like "abc" or "6543" are easy to guess.': N_(
        'Sequences like "abc" or "6543" are easy to guess.'
    ),
    "Recent years are easy to guess.": N_("Recent years are easy to guess."),
    "Dates are often easy to guess.": N_("Dates are often easy to guess."),
    "This is a top-10 common password.": N_("This is one of the 10 most common passwords."),
    "This is a top-100 common password.": N_("This is one of the 100 most common passwords."),
    "This is a very common password.": N_("This is a very common password."),
    "This is similar to a commonly used password.": N_(
        "This is similar to a commonly used password."
    ),
    "A word by itself is easy to guess.": N_("A word by itself is easy to guess."),
    "Names and surnames by themselves are easy to guess.": N_(
        "Names and surnames by themselves are easy to guess."
    ),
    "Common names and surnames are easy to guess.": N_(
        "Common names and surnames are easy to guess."
    ),
    "Use a few words, avoid common phrases.": N_("Use a few words, and avoid common phrases."),
    "No need for symbols, digits, or uppercase letters.": N_(
        "No need for symbols, digits or capital letters."
    ),
    "Add another word or two. Uncommon words are better.": N_(
        "Add another word or two. Uncommon words are better."
    ),
    "Use a longer keyboard pattern with more turns.": N_(
        "Use a longer keyboard pattern with more turns."
    ),
    "Avoid repeated words and characters.": N_("Avoid repeated words and characters."),
    "Avoid sequences.": N_("Avoid sequences."),
    "Avoid recent years.": N_("Avoid recent years."),
    "Avoid years that are associated with you.": N_("Avoid years that are associated with you."),
    "Avoid dates and years that are associated with you.": N_(
        "Avoid dates and years that are associated with you."
    ),
    "Capitalization doesn't help very much.": N_("Capital letters don't help very much."),
    "All-uppercase is almost as easy to guess as all-lowercase.": N_(
        "All capitals are almost as easy to guess as all lower case."
    ),
    "Reversed words aren't much harder to guess.": N_(
        "Reversed words aren't much harder to guess."
    ),
    "Predictable substitutions like '@' instead of 'a' don't help very much.": N_(
        "Predictable substitutions like '@' instead of 'a' don't help very much."
    ),
}


@dataclass(frozen=True)
class Strength:
    """zxcvbn's score (0-4), and for a guessable password why and how to do better, as
    message ids: `warning` ("" when there is none) and `suggestions`."""

    score: int
    warning: str = ""
    suggestions: tuple[str, ...] = ()

    @property
    def guessable(self) -> bool:
        return self.score < MIN_SCORE


def estimate(password: str, user_inputs: Iterable[str] = ()) -> Strength:
    """Rate the password; `user_inputs` are words an attacker knows (the address, the firm)."""
    if not password:
        return Strength(0, GENERIC_WARNING, (GENERIC_HINT,))
    result = zxcvbn(password[:ESTIMATED_LENGTH], user_inputs=[w for w in user_inputs if w])
    score = int(result["score"])
    if score >= MIN_SCORE:
        return Strength(score)
    feedback = result["feedback"]
    warning = ours(feedback["warning"], GENERIC_WARNING) if feedback["warning"] else ""
    if not warning:
        personal = _uses_user_inputs(result["sequence"])
        warning = PERSONAL_WARNING if personal else GENERIC_WARNING
    suggestions = [ours(text, GENERIC_HINT) for text in feedback["suggestions"]]
    return Strength(score, warning, tuple(dict.fromkeys(suggestions or [GENERIC_HINT])))


def ours(text: str, fallback: str) -> str:
    """Our message id for one of zxcvbn's sentences; `fallback` for one we do not know."""
    return FEEDBACK.get(text, fallback)


def _uses_user_inputs(sequence: Sequence[dict]) -> bool:
    return any(match.get("dictionary_name") == "user_inputs" for match in sequence)
