"""Limits on sign-ins, resets, new links and client invitations (R16, R33, R37), counted in the
database so that every process, every restart and every parallel request sees the same counts.

A use is counted before the work it guards (before a password is checked): `take` adds one to
each counter with one atomic upsert and says whether all are still within their limit, so a
burst of parallel attempts meets the limit exactly as the same attempts one by one would. A
sign-in that succeeds gives its use back (`give_back`): only failures add up.

A window opens at a subject's first use and lasts the limit's length; the next use after it
opens a new one. So "once an hour" means an hour after the last allowed use, and a stranger who
uses up someone's limit blocks them for one window at most. Counters whose window has ended are
deleted as new uses are counted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

from sqlalchemy import delete, text, update
from sqlmodel import Session

from portal_ui.clock import utcnow
from portal_ui.models import LimitCounter


@dataclass(frozen=True)
class Limit:
    """At most `uses` per subject in each `window`."""

    name: str
    uses: int
    window: timedelta

    def key(self, subject: str) -> str:
        return f"{self.name}:{subject}"


# Sign-in (staff and portal, each its own): a guesser at one address from one place gets five
# tries a quarter of an hour, and a stranger elsewhere cannot use them up. A looser cap per
# address stops guessing spread over many places (20 guesses a quarter of an hour, whatever the
# places); a stranger who trips it on purpose locks the holder out until that quarter of an hour
# ends, never longer. One place trying many addresses (a list of leaked passwords) is stopped by
# the cap per IP, loose enough for an office behind one address.
SIGN_IN_PER_ADDRESS_AND_IP = Limit("sign-in", 5, timedelta(minutes=15))
SIGN_IN_PER_ADDRESS = Limit("sign-in-address", 20, timedelta(minutes=15))
SIGN_IN_PER_IP = Limit("sign-in-ip", 50, timedelta(minutes=15))
# Password forms reached from an emailed link (activation, reset): wrong or refused passwords per
# link, and per place for all links together (links are unguessable; this caps Argon2id work).
PASSWORD_PER_LINK = Limit("password-link", 10, timedelta(minutes=15))
PASSWORD_PER_IP = Limit("password-ip", 30, timedelta(minutes=15))
# "Forgot password?" requests per place (each user also gets at most 3 links an hour, portal.py).
RESET_REQUESTS_PER_IP = Limit("reset-ip", 5, timedelta(minutes=15))
# R16: "Send me a new link" at most once an hour per address.
NEW_LINK_PER_ADDRESS = Limit("new-link", 1, timedelta(hours=1))
# R37: people one client may invite in a day (the number comes from the settings).
CLIENT_INVITES_WINDOW = timedelta(days=1)


def client_invites(per_day: int) -> Limit:
    return Limit("client-invite", per_day, CLIENT_INVITES_WINDOW)


def sign_in_limits(kind: str, address: str, ip: str) -> list[tuple[Limit, str]]:
    """The counters one sign-in attempt uses; `kind` keeps staff and portal apart."""
    address = address.strip().lower()
    return [
        (SIGN_IN_PER_ADDRESS_AND_IP, f"{kind}:{address}|{ip}"),
        (SIGN_IN_PER_ADDRESS, f"{kind}:{address}"),
        (SIGN_IN_PER_IP, f"{kind}:{ip}"),
    ]


def password_limits(link_hash: str, ip: str) -> list[tuple[Limit, str]]:
    return [(PASSWORD_PER_LINK, link_hash), (PASSWORD_PER_IP, ip)]


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


# One statement, atomic on SQLite (>= 3.35) and PostgreSQL alike: the new count comes back.
# Both SET expressions read the row as it was (an ended window starts again at 1).
_COUNT = text(
    "INSERT INTO limit_counter (key, count, expires_at) VALUES (:key, 1, :now + :window)"
    " ON CONFLICT (key) DO UPDATE SET"
    " count = CASE WHEN limit_counter.expires_at <= :now THEN 1"
    " ELSE limit_counter.count + 1 END,"
    " expires_at = CASE WHEN limit_counter.expires_at <= :now THEN :now + :window"
    " ELSE limit_counter.expires_at END"
    " RETURNING count"
)


def take(session: Session, uses: Iterable[tuple[Limit, str]], now: datetime | None = None) -> bool:
    """Count one use on each (limit, subject); True when every count is within its limit.
    Call it as the first write of its transaction, and commit before slow work, so that
    parallel requests see each other's counts."""
    moment = _seconds(now or utcnow())
    allowed = True
    for limit, subject in uses:
        window = int(limit.window.total_seconds())
        params = {"key": limit.key(subject), "now": moment, "window": window}
        count = session.execute(_COUNT, params).scalar_one()
        allowed = allowed and count <= limit.uses
    session.execute(delete(LimitCounter).where(LimitCounter.expires_at <= moment))
    return allowed


def give_back(
    session: Session, uses: Iterable[tuple[Limit, str]], now: datetime | None = None
) -> None:
    """Undo one use on each (limit, subject) in its current window: a sign-in that succeeded
    is no failure."""
    moment = _seconds(now or utcnow())
    for limit, subject in uses:
        session.execute(
            update(LimitCounter)
            .where(
                LimitCounter.key == limit.key(subject),
                LimitCounter.expires_at > moment,
                LimitCounter.count > 0,
            )
            .values(count=LimitCounter.count - 1)
        )


def client_ip(
    peer: str | None,
    forwarded_for: str | None,
    trusted: tuple[IPv4Network | IPv6Network, ...],
) -> str:
    """The client's address (R33): the connection's own, unless it comes from a trusted proxy;
    then the nearest address in X-Forwarded-For that is not itself a trusted proxy (the
    leftmost entries are whatever the client wrote, so they are read last)."""
    if not peer:
        return "unknown"
    if not _is_trusted(peer, trusted) or not forwarded_for:
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop if _is_address(hop) else peer
    return hops[0] if hops and _is_address(hops[0]) else peer


def _is_address(text_: str) -> bool:
    try:
        ip_address(text_)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        found = ip_address(address)
    except ValueError:
        return False
    return any(found in network for network in trusted)
