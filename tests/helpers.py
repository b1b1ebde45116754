"""What the tests share besides fixtures: databases, ports, CSV and multipart bodies, and the
platform's invariants after anything was done to it."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import httpx
import psycopg
from fastapi import FastAPI

from txn_core import refresh


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


def create_database(postgres_server: str, template: str | None = None) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        clause = f' TEMPLATE "{template}"' if template else ""
        conn.execute(f'CREATE DATABASE "{name}"{clause}')
    return with_database(postgres_server, name)


def drop_database(postgres_server: str, url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_csv(path: Path, lines: list[str], newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


HEADER = "transaction_id,user_id,product_id,timestamp,transaction_amount"


BOUNDARY = "txn-test-boundary-7MA4YWxkTrZu0gW"


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


ANALYTICS_TABLES = (
    "user_daily_spend",
    "user_monthly_spend",
    "user_spend_trend",
    "user_spend_trend_months",
    "user_risk_profile",
)


def analytics_snapshot(conn: psycopg.Connection) -> dict[str, list[tuple]]:
    return {
        table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ANALYTICS_TABLES
    }


def assert_analytics_equal_a_full_rebuild(conn: psycopg.Connection) -> None:
    """The analytics tables as they are equal those rebuilt from scratch over the same rows
    (the check rebuilds them, so it comes last in a test)."""
    incremental = analytics_snapshot(conn)
    for table in ANALYTICS_TABLES:
        conn.execute(f"TRUNCATE {table}")
    refresh.rebuild_everything(conn)
    full = analytics_snapshot(conn)
    for table in ANALYTICS_TABLES:
        assert incremental[table] == full[table], f"{table} differs from a full rebuild"


def assert_platform_consistent(
    warehouse_url: str, landing_root: Path | None, rows: int, total: Decimal
) -> None:
    """What must hold after any fault once the retries are done: every ledger row adds up and
    matches the rows its upload put in `transactions`, which hold exactly `rows` rows worth
    `total`; nothing waits for a refresh, and the analytics equal a full rebuild; no file is
    left in incoming/."""
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        ledger = conn.execute(
            "SELECT u.upload_id, u.status, u.rows_read, u.rows_loaded, u.rows_duplicate, "
            "       u.rows_rejected, coalesce(t.rows, 0) "
            "FROM uploads AS u "
            "LEFT JOIN (SELECT upload_id, count(*) AS rows FROM transactions GROUP BY 1) AS t "
            "USING (upload_id)"
        ).fetchall()
        for upload_id, status, read, loaded, duplicate, rejected, in_table in ledger:
            assert read == loaded + duplicate + rejected, upload_id
            assert status in ("succeeded", "failed"), (upload_id, status)
            assert loaded == in_table, f"{upload_id} ({status}): ledger {loaded}, table {in_table}"
        facts = conn.execute(
            "SELECT count(*), coalesce(sum(transaction_amount), 0), "
            "       count(*) = count(DISTINCT transaction_id) FROM transactions"
        ).fetchone()
        assert facts == (rows, total, True)
        assert refresh.backlog(conn).days == 0, "days still wait for a refresh"
        risk = conn.execute(
            "SELECT coalesce(sum(tx_count), 0), coalesce(sum(total_spend), 0) "
            "FROM user_risk_profile"
        ).fetchone()
        assert risk == (rows, total)
        assert_analytics_equal_a_full_rebuild(conn)
    if landing_root is not None:
        assert sorted(p.name for p in (landing_root / "incoming").iterdir()) == []
