"""Alembic environment: plain SQL migrations over psycopg, one transaction, one migrator at a time."""

from alembic import context
from sqlalchemy import text

from fleetreg.migrate import engine_for, sqlalchemy_url

# Any fixed number: the advisory lock that keeps two processes from migrating at the same time.
MIGRATION_LOCK = 7_224_911_001

config = context.config
database_url = config.attributes.get("database_url")
if not database_url:
    raise RuntimeError("no database URL given to the migrations")

if context.is_offline_mode():
    context.configure(url=sqlalchemy_url(database_url), literal_binds=True, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_for(database_url)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, transactional_ddl=True)
            with context.begin_transaction():
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
                context.run_migrations()
    finally:
        engine.dispose()
