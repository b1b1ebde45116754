"""Alembic environment: the warehouse URL comes from the caller or from settings."""

from alembic import context
from sqlalchemy import create_engine, pool

from txn_core.settings import get_settings, sqlalchemy_url

url = context.config.get_main_option("sqlalchemy.url") or sqlalchemy_url(
    get_settings().warehouse_url
)

if context.is_offline_mode():
    context.configure(url=url, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
