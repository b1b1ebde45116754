"""Shared fixtures: one real PostgreSQL server per test session, a fresh database per test.

The server is the project's own local server (txn_dev.local_postgres) in a temporary folder,
unless TXN_TEST_DATABASE_URL points at an existing server (CI with a service container).
Each test gets a new database cloned from a migrated template, so tests never see each
other's rows.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import create_database, drop_database, free_port, with_database
from txn_core.migrate import upgrade
from txn_dev.local_postgres import LocalPostgres

pytest_plugins = ["tests.s3"]  # the S3 server fixtures

TEMPLATE_DB = "txn_template"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """URL of the maintenance database of a running server (the server lives for the session)."""
    if external := os.environ.get("TXN_TEST_DATABASE_URL"):
        yield with_database(external, "postgres")
        return
    # A throwaway server: durability settings off, so tests spend their time on behaviour.
    # Not under pytest's private tmp folders: the server may run as another (unprivileged) user.
    base = Path(tempfile.mkdtemp(prefix="txn-test-pg-"))
    base.chmod(0o755)
    server = LocalPostgres(base / "data", free_port())
    server.settings.update(
        {
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "128MB",
        }
    )
    server.start()
    try:
        yield server.url("postgres")
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(postgres_server: str) -> str:
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    upgrade(with_database(postgres_server, TEMPLATE_DB))
    return TEMPLATE_DB


@pytest.fixture
def warehouse_url(postgres_server: str, template_database: str) -> Iterator[str]:
    """A migrated, empty warehouse database of this test's own."""
    url = create_database(postgres_server, template_database)
    yield url
    drop_database(postgres_server, url)


@pytest.fixture
def landing_root(tmp_path: Path) -> Path:
    return tmp_path / "landing"
