"""API fixtures: an app built with this test's own settings (its warehouse database, its
landing folder), and helpers to look at what an upload left behind."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg.rows import dict_row

from txn_api.main import create_app
from txn_core.settings import Settings

BOUNDARY = "txn-test-boundary-7MA4YWxkTrZu0gW"


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


def multipart_head(file_name: str, field: str = "file") -> bytes:
    return (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{file_name}"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()


MULTIPART_TAIL = f"\r\n--{BOUNDARY}--\r\n".encode()
MULTIPART_CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


async def stream_upload(
    app: FastAPI, file_name: str, file_chunks: AsyncIterator[bytes], **headers: str
) -> httpx.Response:
    """POST /upload with a body that is generated while it is sent (no Content-Length).

    Through httpx's ASGI transport, which hands the app each chunk as it comes; Starlette's
    TestClient reads a whole request body into memory before calling the app."""

    async def body() -> AsyncIterator[bytes]:
        yield multipart_head(file_name)
        async for chunk in file_chunks:
            yield chunk
        yield MULTIPART_TAIL

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post(
            "/upload",
            content=body(),
            headers={"Content-Type": MULTIPART_CONTENT_TYPE, **headers},
        )
