"""What the "New account" button does on every page that has it (R4, R5, R26)."""

from __future__ import annotations

from portal_ui import contacts
from web import runtime, sessions


async def create_account(name: str, is_test_client: bool, assign_me: bool) -> int:
    """Create the account, assigned to the team member creating it when they chose so."""
    member_id = sessions.staff_member_id()
    assigned = [member_id] if assign_me and member_id else []
    account = await runtime.call(
        contacts.create_account, name, is_test_client=is_test_client, assigned=assigned
    )
    return account.id or 0
