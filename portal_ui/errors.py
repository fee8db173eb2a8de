"""The domain errors services raise; pages and commands turn them into messages.

Each carries `message`, an untranslated message id (see i18n.N_), and its format arguments,
so the reader's language is chosen where the error is shown.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from portal_ui.i18n import N_, Translate


class DomainError(Exception):
    message: str = N_("This action cannot be done.")

    def __init__(self, message: str | None = None, **params: Any) -> None:
        self.message = message or self.message
        self.params = params
        super().__init__(self.message.format(**params) if params else self.message)

    def describe(self, _: Translate) -> str:
        return _(self.message).format(**self.params)


class NotFound(DomainError):
    message = N_("Not found.")


class InvalidAddress(DomainError):
    message = N_("This email address is invalid.")


class InvalidName(DomainError):
    """R38: a name that is empty or longer than inputs.MAX_NAME."""

    message = N_("Enter a name.")


class MessageTooLong(DomainError):
    """R38: a personalized message longer than inputs.MAX_MESSAGE."""

    message = N_("The message can have at most {limit} characters.")


class InvalidPhone(DomainError):
    """R38: a phone number that breaks the rule of inputs.clean_phone."""

    message = N_(
        "Enter a phone number of 5 to 20 digits, such as +33 1 23 45 67 89. It may contain "
        "spaces, + - ( ) . and end with an extension such as ext. 12."
    )


class AddressTaken(DomainError):
    message = N_("This email address already belongs to another contact.")


class AlreadyActive(DomainError):
    message = N_("This address has already activated its portal access.")


class NoLoginAccess(DomainError):
    message = N_("Turn Login on for this address on at least one account first.")


class NoOutstandingInvitation(DomainError):
    message = N_("This address has no outstanding invitation.")


class TooManyRequests(DomainError):
    message = N_("Too many attempts. Please wait and try again later.")


class TooManyInvitations(DomainError):
    """R37: a client's daily number of invitations is used up."""

    message = N_("You can invite up to {count} people a day. Please try again tomorrow.")


class TokenProblem(StrEnum):
    """R16: why a link does not work."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"
    USED = "used"


class InvalidToken(DomainError):
    """A link that cannot be used; `can_request_new_link` when R16 offers "Send me a new link"."""

    def __init__(self, problem: TokenProblem, can_request_new_link: bool = False) -> None:
        messages = {
            TokenProblem.UNKNOWN: N_("This link is not valid. Check that you copied it whole."),
            TokenProblem.EXPIRED: N_("This link has expired."),
            TokenProblem.CANCELLED: N_("This invitation was cancelled by the firm."),
            TokenProblem.SUPERSEDED: N_("A newer invitation replaced this link."),
            TokenProblem.USED: N_("This link was already used."),
        }
        super().__init__(messages[problem])
        self.problem = problem
        self.can_request_new_link = can_request_new_link


class StaffExists(DomainError):
    message = N_("A team member with this email address already exists.")


class UnknownLanguage(DomainError):
    message = N_("This language is not available.")


class DatabaseNotEmpty(DomainError):
    message = N_("The database already has data; demo data goes only into an empty database.")


class NoPortalAccess(DomainError):
    """R8, R11: the client's password is right but no access row of its address is Active."""

    message = N_(
        "You no longer have access to any account in the portal. Contact your firm if you "
        "think this is a mistake."
    )
