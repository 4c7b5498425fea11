"""Alembic runs the review app's migrations against the connection `review.db.upgrade` hands it."""
from alembic import context

from review.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  version_table="bc_alembic_version", render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
