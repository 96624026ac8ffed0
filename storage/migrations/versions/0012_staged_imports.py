"""imports stage their new entries in short transactions, hidden until one publishes them

``entries.staged_by`` names the import that wrote a row and has not yet published it; every
read path leaves such rows out. A partial index finds an import's staged rows (to publish or
discard them, and for housekeeping) and holds nothing once they are published. Adding a
column keeps the table, so the description triggers of 0008 stay in place. ``audit_staging``
holds the audit rows of staged entries until the publish copies them into ``audit_log``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STAGED = sa.text("staged_by IS NOT NULL")


def upgrade() -> None:
    op.add_column("entries", sa.Column("staged_by", sa.String(length=32), nullable=True))
    op.create_index(
        "ix_entries_staged_by",
        "entries",
        ["staged_by"],
        sqlite_where=STAGED,
        postgresql_where=STAGED,
    )
    op.create_table(
        "audit_staging",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staged_by", sa.String(length=32), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["contacts.id"],
            name=op.f("fk_audit_staging_actor_id_contacts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_staging")),
    )
    op.create_index(op.f("ix_audit_staging_staged_by"), "audit_staging", ["staged_by"])


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_staging_staged_by"), table_name="audit_staging")
    op.drop_table("audit_staging")
    op.drop_index("ix_entries_staged_by", table_name="entries")
    # Not a batch migration: rebuilding the table on SQLite would drop 0008's triggers.
    op.drop_column("entries", "staged_by")
