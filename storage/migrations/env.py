"""Alembic environment: migrations run on a connection the caller passes in (see storage.db)."""

from alembic import context
from sqlalchemy import Connection

from storage.models import Base

connection: Connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things in place; batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
