"""Create Dagster's storage database when the server does not have it yet.

The compose `postgres` service creates it in its init script, but a managed server (RDS)
starts with the warehouse database only. The `migrate` service runs this first; it is
idempotent, and it uses the same TXN_DAGSTER_PG_* settings as dagster.yaml.
"""

import os
import sys

import psycopg
from psycopg import sql


def main() -> int:
    name = os.environ.get("TXN_DAGSTER_PG_DB", "dagster")
    params = {
        "host": os.environ.get("TXN_DAGSTER_PG_HOST", "postgres"),
        "port": os.environ.get("TXN_DAGSTER_PG_PORT", "5432"),
        "user": os.environ.get("TXN_DAGSTER_PG_USER", "txn"),
        "password": os.environ.get("TXN_DAGSTER_PG_PASSWORD", ""),
        # the maintenance database exists on every PostgreSQL server
        "dbname": "postgres",
        "connect_timeout": 10,
    }
    with psycopg.connect(**params, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            print(f"database {name!r} present")
            return 0
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"database {name!r} created")
    return 0


if __name__ == "__main__":
    sys.exit(main())
