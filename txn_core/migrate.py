"""Apply the warehouse schema migrations: `python -m txn_core.migrate [URL]`."""

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from txn_core.settings import get_settings, sqlalchemy_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str | None = None) -> None:
    command.upgrade(alembic_config(database_url or get_settings().warehouse_url), "head")


if __name__ == "__main__":
    upgrade(sys.argv[1] if len(sys.argv) > 1 else None)
