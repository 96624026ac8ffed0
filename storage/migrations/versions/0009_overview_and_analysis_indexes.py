"""indexes for a State's overview, the ISU's yearly figures and listings of a category

How many of a State's entries are open, which States recorded needs in a year, and who reported
assistance in a year are each read from one index, without visiting the rows; a listing of one
category (``/ccm offers training``) reads that category's entries only.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 14:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_entries_state_kind_status", "entries", ["state_iso3", "kind", "status"])
    op.create_index(
        "ix_entries_kind_year_state_article",
        "entries",
        ["kind", "ref_year", "state_iso3", "article"],
    )
    op.create_index(
        "ix_entries_kind_category_created", "entries", ["kind", "category", "created_at"]
    )
    op.drop_index("ix_assistance_year_direction", table_name="assistance")
    op.create_index(
        "ix_assistance_year_direction_state_article",
        "assistance",
        ["year", "direction", "state_iso3", "article"],
    )


def downgrade() -> None:
    op.drop_index("ix_assistance_year_direction_state_article", table_name="assistance")
    op.create_index("ix_assistance_year_direction", "assistance", ["year", "direction"])
    op.drop_index("ix_entries_kind_category_created", table_name="entries")
    op.drop_index("ix_entries_kind_year_state_article", table_name="entries")
    op.drop_index("ix_entries_state_kind_status", table_name="entries")
