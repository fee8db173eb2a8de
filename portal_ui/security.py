"""Passwords (Argon2id and the policy of R17, R38a) and single-use tokens (R15). Limits on
attempts are portal_ui.limits."""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal_ui.i18n import N_

MIN_PASSWORD_LENGTH = 10
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# Argon2id with the memory and passes of RFC 9106's second recommended option (64 MiB, t=3,
# section 4), in one lane instead of its four. An attacker pays the same 64 MiB x 3 passes per
# guess whatever the lanes; lanes only let one hash use more cores, and argon2-cffi runs each
# lane as a thread: with p=4, one hash took both cores of a small server and starved its event
# loop (bench/README.md, "Activations"). p=1 is what OWASP's Password Storage Cheat Sheet
# recommends (its minimum: m=19 MiB, t=2, p=1; ours is above it on both memory and passes).
# Hashes made with other parameters (p=4 before) still verify: Argon2 stores them in the hash.
_hasher = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=1)


class PasswordRejected(ValueError):
    """The password breaks the policy; `reason` is an untranslated message id."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


TOO_SHORT = N_("Use at least 10 characters.")
IS_ADDRESS = N_("Do not use your email address as your password.")
TOO_COMMON = N_("This password is too common. Choose one that is harder to guess.")
MISMATCH = N_("The two passwords do not match.")


def password_problems(password: str, address: str = "") -> list[str]:
    """Every rule of R17 this password breaks (message ids), for checking as the client types."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(TOO_SHORT)
    lowered = password.strip().lower()
    local_part = address.lower().split("@")[0]
    if address and lowered in (address.lower(), local_part):
        problems.append(IS_ADDRESS)
    if lowered in _COMMON_PASSWORDS or (password and zxcvbn(password[:64])["score"] == 0):
        problems.append(TOO_COMMON)
    return problems


def check_password(password: str, address: str = "") -> None:
    """Raise PasswordRejected with the first broken rule of R17."""
    problems = password_problems(password, address)
    if problems:
        raise PasswordRejected(problems[0])


def hash_password(password: str) -> str:
    """Argon2id; slow on purpose (about 0.2 s of one core), so pages run it through
    pages.runtime.call_hashing, never on the event loop nor in the pool page reads use."""
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
