"""server-side sessions, limit counters, team member deactivation

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 06:00:00.000000

R33, R34: the state that decides who may do what moves from one process's memory into the
database. Sessions from before (NiceGUI's per-browser storage) are simply not read any more:
their holders sign in again. portal_user.session_version is replaced by the sessions' own end.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("grant_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("grant_expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("portal_user_id", sa.Integer(), nullable=True),
        sa.Column("credential", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["team_member.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["portal_user_id"], ["portal_user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grant_hash"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_session_member_id"), ["member_id"])
        batch_op.create_index(batch_op.f("ix_user_session_portal_user_id"), ["portal_user_id"])

    op.create_table(
        "limit_counter",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("limit_counter", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_limit_counter_expires_at"), ["expires_at"])

    op.add_column(
        "team_member",
        sa.Column("deactivated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )
    op.drop_column("portal_user", "session_version")


def downgrade() -> None:
    op.add_column(
        "portal_user",
        sa.Column("session_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.drop_column("team_member", "deactivated_at")
    op.drop_table("limit_counter")
    op.drop_table("user_session")
