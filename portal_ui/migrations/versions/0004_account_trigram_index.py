"""account search index on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 09:00:00.000000

The search box (R24, R39) on PostgreSQL: pg_trgm's GIN index over account.search_text, which
the planner uses for the accounts list's LIKE '%term%' (SQLite has its FTS5 index since 0002;
nothing to do there). pg_trgm ships with PostgreSQL and is a trusted extension: the database's
owner may create it.

These statements are a frozen copy of portal_ui.db.TRIGRAM_INDEX_DDL as of this revision
(tests/unit/test_migrations.py compares the migrated schema with create_schema's).
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    # Indexes the accounts already there (about 2 s for 100,000).
    op.execute(
        """CREATE INDEX IF NOT EXISTS ix_account_search_text_trgm ON account
    USING gin (search_text gin_trgm_ops)"""
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    # The extension stays: other objects of the database may use it.
    op.execute("DROP INDEX IF EXISTS ix_account_search_text_trgm")
