"""API fixtures: an app built with this test's own settings (its warehouse database, its
landing folder), and helpers to look at what an upload left behind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from txn_api.main import create_app
from txn_core.settings import Settings


@pytest.fixture
def make_settings(warehouse_url: str, landing_root: Path) -> Callable[..., Settings]:
    def _make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": warehouse_url,
            "landing": str(landing_root),
            "api_key": None,
            "upload_chunk_bytes": 64 * 1024,
            # No budget by default: tests of the limits set their own.
            "rate_limit_reads": "",
            "rate_limit_uploads": "",
        }
        return Settings(**(values | overrides))

    return _make


@pytest.fixture
def make_client(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def _make(**overrides: Any) -> TestClient:
        client = TestClient(create_app(make_settings(**overrides)))
        clients.append(client.__enter__())
        return client

    yield _make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


@pytest.fixture
def incoming(landing_root: Path) -> Callable[[], list[str]]:
    """Every name in incoming/, hidden partial files included."""

    def _list() -> list[str]:
        folder = landing_root / "incoming"
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    return _list


@pytest.fixture
def uploads_table(warehouse_url: str) -> Callable[[], list[dict[str, Any]]]:
    def _rows() -> list[dict[str, Any]]:
        with psycopg.connect(warehouse_url) as conn, conn.cursor(row_factory=dict_row) as cur:
            return cur.execute("SELECT * FROM uploads ORDER BY created_at").fetchall()

    return _rows
