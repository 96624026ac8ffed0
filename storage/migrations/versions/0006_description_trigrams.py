"""trigram index for free-text search on PostgreSQL

Searching descriptions for a word (``lower(description) LIKE '%word%'``) reads every entry
without it. PostgreSQL's pg_trgm extension indexes such patterns. It ships with PostgreSQL's
contrib package and is a trusted extension (a database owner may create it), but a server
without it still migrates: the search is then only slower. SQLite keeps scanning.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:55:00
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy.exc import DBAPIError

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_entries_description_trgm"


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except DBAPIError:
        return  # not installed or not permitted: searches work, unindexed
    bind.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {INDEX} ON entries USING gin (lower(description) gin_trgm_ops)"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {INDEX}")
