"""account search index

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 18:30:00.000000

The search box (R24) on SQLite: an FTS5 trigram index over account.search_text, kept in step
by triggers, so that a substring search reads the few matching accounts instead of testing
LIKE on all of them. Other databases keep searching with LIKE (nothing to do here).

These statements are a frozen copy of portal_ui.db.SEARCH_INDEX_DDL as of this revision
(tests/unit/test_migrations.py compares the migrated schema with create_schema's). A later
migration that rebuilds the account table (batch_alter_table on SQLite copies and renames it)
drops the triggers with it and must create them again.
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


STATEMENTS = (
    """CREATE VIRTUAL TABLE IF NOT EXISTS account_fts USING fts5(
    search_text, content='account', content_rowid='id',
    tokenize='trigram case_sensitive 1', columnsize=0)""",
    """CREATE TRIGGER IF NOT EXISTS account_fts_insert AFTER INSERT ON account BEGIN
    INSERT INTO account_fts(rowid, search_text) VALUES (new.id, new.search_text);
END""",
    """CREATE TRIGGER IF NOT EXISTS account_fts_delete AFTER DELETE ON account BEGIN
    INSERT INTO account_fts(account_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
END""",
    """CREATE TRIGGER IF NOT EXISTS account_fts_update AFTER UPDATE OF search_text ON account
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO account_fts(account_fts, rowid, search_text)
    VALUES ('delete', old.id, old.search_text);
    INSERT INTO account_fts(rowid, search_text) VALUES (new.id, new.search_text);
END""",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for statement in STATEMENTS:
        op.execute(statement)
    # Index the accounts already there (about a second for 100,000).
    op.execute("INSERT INTO account_fts(account_fts) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in ("account_fts_update", "account_fts_delete", "account_fts_insert"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS account_fts")
