"""How pages write dates, moments and delivery states: one way each, in the reader's language
(Babel's formats for the reader's locale). Times are kept in UTC and say so."""

from __future__ import annotations

from datetime import datetime

from babel.dates import format_date, format_datetime

from portal_ui.i18n import N_, _, language
from portal_ui.models import DeliveryState

# R22a: an outstanding invitation's email, as the pending tab and the profile show it.
_DELIVERY: dict[DeliveryState, str] = {
    DeliveryState.QUEUED: N_("Queued"),
    DeliveryState.SENDING: N_("Sending"),
    DeliveryState.SENT: N_("Sent"),
    DeliveryState.FAILED: N_("Failed"),
}
RETRYING = N_("Retrying")
NOT_SENT = N_("Invite not sent")


def short_date(moment: datetime | None) -> str:
    """A date, e.g. "Mar 10, 2025"; empty for none."""
    return format_date(moment, "medium", locale=language()) if moment else ""


def full_moment(moment: datetime | None) -> str:
    """A date and time, e.g. "Mar 10, 2025, 9:05:00 AM UTC"; empty for none."""
    if moment is None:
        return ""
    return format_datetime(moment, "medium", locale=language()) + " UTC"


def delivery_label(state: DeliveryState | None, error: str | None = None) -> str:
    """R22a: Queued, Retrying (queued after an error), Sending, Sent, Failed; or not sent."""
    if state is None:
        return _(NOT_SENT)
    if state is DeliveryState.QUEUED and error:
        return _(RETRYING)
    return _(_DELIVERY[state])
