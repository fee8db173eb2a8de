"""The one source of 'now': aware UTC datetimes, passed into services so tests can set time."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
