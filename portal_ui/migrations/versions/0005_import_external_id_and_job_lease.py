"""account external id for imports; job lease

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00.000000

R32: an imported account keeps the identifier the firm's other system gives it (the file's
`Account ID` column), so that importing the same file again finds it. Nullable and unique:
accounts made in the product have none.

R40: a job (bulk update or import) is claimed with a lease that its runner renews as it
advances; a job whose lease has run out is resumed by another process (portal_ui.jobs).

Plain ADD COLUMN and CREATE INDEX, no batch_alter_table: rebuilding the account table on
SQLite would drop the search index's triggers (see 0002).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "account",
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    )
    op.create_index("ix_account_external_id", "account", ["external_id"], unique=True)
    op.add_column(
        "bulk_job",
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("bulk_job", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
    op.drop_index("ix_account_external_id", table_name="account")
    # Not batch_alter_table: see above (SQLite >= 3.35 drops a column in place).
    op.drop_column("account", "external_id")
