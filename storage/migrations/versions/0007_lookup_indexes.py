"""indexes for the inbound duplicate check and for pruning processed Slack events

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.create_index("ix_inbound_mail_message_id", ["message_id"], unique=False)
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_processed_events_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("processed_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_events_received_at"))
    with op.batch_alter_table("inbound_mail", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_mail_message_id")
