"""What each asset's table holds, as the Dagster catalog shows it: the table's name, its columns
with what they mean, who owns it, and where its code is."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dagster import (
    AnchorBasedFilePathMapping,
    TableColumn,
    TableColumnConstraints,
    TableSchema,
    link_code_references_to_git,
    with_source_code_references,
)

OWNERS = ["team:data-platform"]

KEY = TableColumnConstraints(nullable=False, unique=True)
REQUIRED = TableColumnConstraints(nullable=False)


def _column(name: str, kind: str, description: str, required: bool = True) -> TableColumn:
    return TableColumn(name, kind, description, constraints=REQUIRED if required else None)


TRANSACTIONS = TableSchema(
    columns=[
        TableColumn("transaction_id", "uuid", "Unique across every file ever loaded.", KEY),
        _column("user_id", "integer", "Who spent (a positive integer)."),
        _column("product_id", "integer", "On what (a positive integer)."),
        _column("timestamp", "timestamptz", "When, in UTC."),
        _column("transaction_amount", "numeric(10,2)", "How much: 0 <= amount < 100,000,000."),
        _column("transaction_date", "date", "The UTC day of `timestamp`."),
        _column("upload_id", "text", "The upload that loaded the row (see the ledger)."),
        _column("loaded_at", "timestamptz", "When its load committed."),
    ]
)
DAILY_SPEND = TableSchema(
    columns=[
        _column("user_id", "integer", "The user (with spend_date, the key)."),
        _column("spend_date", "date", "The UTC day."),
        _column("tx_count", "bigint", "Transactions that day."),
        _column("total_amount", "numeric", "Their total."),
        _column("min_amount", "numeric(10,2)", "The smallest one."),
        _column("max_amount", "numeric(10,2)", "The largest one."),
        _column("sum_squares", "numeric", "Sum of squared amounts (for the deviation)."),
        _column("first_at", "timestamptz", "The day's first transaction."),
        _column("last_at", "timestamptz", "The day's last transaction."),
        _column(
            "min_gap_seconds", "double precision", "Shortest gap inside the day.", required=False
        ),
        _column(
            "transaction_times",
            "timestamptz[]",
            "Every transaction's time that day (for the 24-hour count).",
            required=False,
        ),
    ]
)
SPEND_TREND = TableSchema(
    columns=[
        _column("user_id", "integer", "The user (with spend_date, the key)."),
        _column("spend_date", "date", "Every day from the user's first to last active day."),
        _column("daily_total", "numeric", "Spend that day (0 without any)."),
        _column("rolling_7d_avg", "numeric", "Mean of the day and the 6 before, 2 places."),
    ]
)
RISK_PROFILE = TableSchema(
    columns=[
        TableColumn("user_id", "integer", "The user.", KEY),
        _column("tx_count", "bigint", "Lifetime transactions."),
        _column("total_spend", "numeric", "Lifetime spend."),
        _column("mean_amount", "numeric", "total_spend / tx_count, exact."),
        _column("stddev_amount", "numeric", "Population standard deviation, 2 places."),
        _column("volatility_index", "numeric(10,2)", "stddev / mean (0 when the mean is 0)."),
        _column("global_whale_rank", "integer", "Dense rank by total_spend; 1 spends most."),
        _column("max_single_transaction", "numeric(10,2)", "The largest single amount."),
        _column(
            "shortest_gap_minutes",
            "double precision",
            "Shortest time between two transactions; null for one.",
            required=False,
        ),
        _column("first_transaction_at", "timestamptz", "The first transaction."),
        _column("last_transaction_at", "timestamptz", "The latest transaction."),
        _column("active_days", "bigint", "Days with at least one transaction."),
        _column("tx_per_active_day", "numeric", "Velocity: transactions per active day."),
        _column("tx_last_24h", "bigint", "Transactions in the 24 hours up to the latest."),
    ]
)


def table(name: str, schema: TableSchema) -> dict:
    """An asset's metadata naming the table it writes and its columns (Dagster's documented
    `dagster/` keys, which the catalog shows and searches)."""
    return {
        "dagster/table_name": f"public.{name}",
        "dagster/column_schema": schema,
        "dagster/storage_kind": "postgres",
    }


def row_count(rows: int) -> dict:
    return {"dagster/row_count": rows}


def partition_row_count(rows: int) -> dict:
    return {"dagster/partition_row_count": rows}


def with_code_links(assets: Sequence, source_url: str | None, revision: str | None) -> Sequence:
    """Each asset links to its code: in the repository at the image's revision when the build
    names them (deployed images), else to the files on this machine."""
    assets = with_source_code_references(assets)
    if not (source_url and revision):
        return assets
    return link_code_references_to_git(
        assets,
        git_url=source_url,
        git_branch=revision,
        file_path_mapping=AnchorBasedFilePathMapping(
            local_file_anchor=Path(__file__), file_anchor_path_in_repository="txn_assets/catalog.py"
        ),
    )
