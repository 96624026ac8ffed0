"""inbound mail: the SPF, DKIM and DMARC results our own MTA recorded

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 19:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = ("auth_spf", "auth_dkim", "auth_dmarc")


def upgrade() -> None:
    with op.batch_alter_table("inbound_mail") as batch:
        for name in _COLUMNS:
            batch.add_column(sa.Column(name, sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_mail") as batch:
        for name in reversed(_COLUMNS):
            batch.drop_column(name)
