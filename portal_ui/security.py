"""Passwords (Argon2id and the policy of R17, R38a) and single-use tokens (R15). Limits on
attempts are portal_ui.limits."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from portal_ui import password_strength
from portal_ui.i18n import N_, Translate

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 128  # R38: every field has a limit; NIST SP 800-63B asks for 64 at least
# Argon2id with the memory and passes of RFC 9106's second recommended option (64 MiB, t=3,
# section 4), in one lane instead of its four. An attacker pays the same 64 MiB x 3 passes per
# guess whatever the lanes; lanes only let one hash use more cores, and argon2-cffi runs each
# lane as a thread: with p=4, one hash took both cores of a small server and starved its event
# loop (bench/README.md, "Activations"). p=1 is what OWASP's Password Storage Cheat Sheet
# recommends (its minimum: m=19 MiB, t=2, p=1; ours is above it on both memory and passes).
# Hashes made with other parameters (p=4 before) still verify: Argon2 stores them in the hash.
PRODUCTION_COST = "production"
# The cheapest Argon2id there is (one pass over 8 KiB), for test suites: the UI tests create a
# team member each, and at the production cost that was most of their CPU time (issue 14).
TEST_COST = "test"
HASH_COST_VARIABLE = "PORTAL_PASSWORD_HASH_COST"


def make_hasher(cost: str | None = None) -> PasswordHasher:
    """The hasher for a cost by name: PRODUCTION_COST (the default) or TEST_COST. Either
    verifies the hashes of the other."""
    if cost in (None, "", PRODUCTION_COST):
        return PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)
    if cost == TEST_COST:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    raise ValueError(f"{HASH_COST_VARIABLE} must be {PRODUCTION_COST!r} or {TEST_COST!r}: {cost!r}")


# Chosen once, at import, from PORTAL_PASSWORD_HASH_COST (unset: production): every hash,
# DUMMY_PASSWORD_HASH below included, is made at one cost. tests/conftest.py sets "test" before
# anything imports this module, and the `portal-ui serve` processes the tests start inherit it.
HASH_COST = os.environ.get(HASH_COST_VARIABLE) or PRODUCTION_COST
_hasher = make_hasher(HASH_COST)


class PasswordRejected(ValueError):
    """The password breaks the policy: `reason` says why and `advice` how to do better, as
    untranslated message ids (the page or the command translates them)."""

    def __init__(self, reason: str, advice: Sequence[str] = ()) -> None:
        super().__init__(" ".join((reason, *advice)))
        self.reason = reason
        self.advice = tuple(advice)

    def describe(self, _: Translate) -> str:
        return " ".join(_(text) for text in (self.reason, *self.advice))


TOO_SHORT = N_("Use at least 10 characters.")
TOO_LONG = N_("Use at most 128 characters.")
IS_ADDRESS = N_("Do not use your email address as your password.")
# R38a: the rule "not easy to guess"; the review says why (zxcvbn's warning) and what helps.
GUESSABLE = N_("This password is easy to guess.")
MISMATCH = N_("The two passwords do not match.")


@dataclass(frozen=True)
class PasswordReview:
    """The rules of R17 and R38a a password breaks (`problems`, message ids); when GUESSABLE is
    one, `warning` says why and `suggestions` how to do better (message ids too)."""

    problems: tuple[str, ...] = ()
    warning: str = ""
    suggestions: tuple[str, ...] = ()


def review_password(password: str, address: str = "", firm_name: str = "") -> PasswordReview:
    """Every rule this password breaks, for checking as the client types and before saving.
    zxcvbn rates it knowing the address, its local part and the firm's name (R38a)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(TOO_SHORT)
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(TOO_LONG)
    lowered = password.strip().lower()
    local_part = address.lower().split("@")[0]
    if address and lowered in (address.lower(), local_part):
        problems.append(IS_ADDRESS)
    strength = password_strength.estimate(password, _known_words(address, firm_name))
    if not strength.guessable:
        return PasswordReview(tuple(problems))
    problems.append(GUESSABLE)
    return PasswordReview(tuple(problems), strength.warning, strength.suggestions)


def check_password(password: str, address: str = "", firm_name: str = "") -> None:
    """Raise PasswordRejected with the first broken rule; a guessable password's reason is
    zxcvbn's warning, and its advice zxcvbn's suggestions (R38a)."""
    review = review_password(password, address, firm_name)
    if not review.problems:
        return
    if review.problems[0] == GUESSABLE:
        raise PasswordRejected(review.warning, review.suggestions)
    raise PasswordRejected(review.problems[0])


def _known_words(address: str, firm_name: str) -> list[str]:
    """What an attacker knows of this person: the address, its local part and the firm's
    name, whole, run together and word by word ("anna.keller", "annakeller", "anna", "keller";
    "Keller & Co", "kellerco", "keller")."""
    words = [address.lower()]
    for text in (address.split("@")[0], firm_name):
        parts = re.split(r"[\W_]+", text.lower())
        words += [text.lower(), "".join(parts), *parts]
    return [word for word in dict.fromkeys(words) if len(word) >= 3]


def hash_password(password: str) -> str:
    """Argon2id; slow on purpose (about 0.2 s of one core), so pages run it through
    web.runtime.call_hashing, never on the event loop nor in the pool page reads use."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash that verification can run against when the address is unknown, so that the time a
# sign-in takes does not reveal whether an account exists.
DUMMY_PASSWORD_HASH = _hasher.hash(secrets.token_urlsafe(16))


def new_token() -> str:
    """A URL-safe random token of 256 bits (R15 asks for at least 128)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Only this is stored. A fast hash is right here: the token has 256 bits of entropy."""
    return hashlib.sha256(token.encode()).hexdigest()
