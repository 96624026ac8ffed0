"""trigram index of descriptions on SQLite, for searches of rare words

An FTS5 table (``entries_fts``) indexes ``entries.description`` with the trigram tokenizer;
``storage.search_index`` consults it when a searched word is rare. It holds no text of its own
(``content='entries'``): triggers keep it in step with every insert, update and delete.

A later batch migration that rebuilds ``entries`` drops these triggers with the old table: it
must create them again, and tests/storage/test_search_index.py fails until it does.
SQLite before 3.34 has no trigram tokenizer: the migration then does nothing, and searches work
unindexed. PostgreSQL has its own index (0006).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 14:10:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import OperationalError

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGGERS = {
    "entries_fts_insert": """
        AFTER INSERT ON entries BEGIN
            INSERT INTO entries_fts (rowid, description) VALUES (new.id, new.description);
        END""",
    "entries_fts_delete": """
        AFTER DELETE ON entries BEGIN
            INSERT INTO entries_fts (entries_fts, rowid, description)
            VALUES ('delete', old.id, old.description);
        END""",
    "entries_fts_update": """
        AFTER UPDATE OF description ON entries BEGIN
            INSERT INTO entries_fts (entries_fts, rowid, description)
            VALUES ('delete', old.id, old.description);
            INSERT INTO entries_fts (rowid, description) VALUES (new.id, new.description);
        END""",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    try:
        bind.exec_driver_sql(
            "CREATE VIRTUAL TABLE entries_fts USING fts5"
            "(description, content='entries', content_rowid='id', tokenize='trigram')"
        )
    except OperationalError:
        return  # no FTS5 or no trigram tokenizer: searches work, unindexed
    for name, body in TRIGGERS.items():
        bind.exec_driver_sql(f"CREATE TRIGGER {name} {body}")
    bind.exec_driver_sql("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    for name in TRIGGERS:
        bind.exec_driver_sql(f"DROP TRIGGER IF EXISTS {name}")
    bind.exec_driver_sql("DROP TABLE IF EXISTS entries_fts")
