"""The upload ledger: one row per landed file, from queued to succeeded or failed."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from txn_core.sql import load_sql


def register_upload(
    conn: psycopg.Connection,
    *,
    upload_id: str,
    source: str,
    file_name: str,
    landing_key: str,
    size_bytes: int | None,
) -> None:
    conn.execute(
        load_sql("ledger/register_upload"),
        {
            "upload_id": upload_id,
            "source": source,
            "file_name": file_name,
            "landing_key": landing_key,
            "size_bytes": size_bytes,
        },
    )


def mark_running(conn: psycopg.Connection, upload_id: str, run_id: str | None = None) -> None:
    conn.execute(load_sql("ledger/mark_running"), {"upload_id": upload_id, "run_id": run_id})


def mark_failed(conn: psycopg.Connection, upload_id: str, error: str) -> None:
    conn.execute(load_sql("ledger/mark_failed"), {"upload_id": upload_id, "error": error[:4000]})


def mark_retrying(conn: psycopg.Connection, upload_id: str, error: str) -> None:
    conn.execute(load_sql("ledger/mark_retrying"), {"upload_id": upload_id, "error": error[:4000]})


def set_landing_key(conn: psycopg.Connection, upload_id: str, landing_key: str) -> None:
    """Where the upload's file now lies (it moves to processed/ once loaded)."""
    conn.execute(load_sql("ledger/set_landing_key"), {"upload_id": upload_id, "key": landing_key})


def get_upload(conn: psycopg.Connection, upload_id: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(load_sql("ledger/get_upload"), {"upload_id": upload_id}).fetchone()


def statuses(conn: psycopg.Connection, upload_ids: list[str]) -> dict[str, str]:
    """upload id -> status, for those of `upload_ids` the ledger knows."""
    rows = conn.execute(load_sql("ledger/statuses"), {"upload_ids": upload_ids})
    return dict(rows.fetchall())


def list_rejected_rows(
    conn: psycopg.Connection, upload_id: str, limit: int, offset: int = 0
) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            load_sql("ledger/list_rejected_rows"),
            {"upload_id": upload_id, "limit": limit, "offset": offset},
        ).fetchall()
