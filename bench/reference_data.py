"""The reference system's stress-test file, generated set-based by DuckDB, and its table.

uuid4 ids, users 1-999, products 1-499, one row per minute from 2024-01-01 and amounts
from 10 to 1000 with 2 decimals, as the predecessor's generator wrote it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from bench.harness import step

MAIN_SEED = 0.42  # the main file's, shared by the benchmarks that read the same N rows

# The reference system's table, as its stress test loaded into it.
REFERENCE_TABLE = """
CREATE TABLE transactions (
    transaction_id     uuid PRIMARY KEY,
    user_id            integer,
    product_id         integer,
    "timestamp"        timestamp,
    transaction_amount numeric(10, 2)
);
CREATE INDEX transactions_user_time_idx ON transactions (user_id, "timestamp");
CREATE INDEX transactions_time_idx ON transactions ("timestamp");
CREATE INDEX transactions_user_idx ON transactions (user_id);
"""

COPY_REFERENCE_CSV = (
    'COPY transactions (transaction_id, user_id, product_id, "timestamp", transaction_amount) '
    "FROM STDIN (FORMAT csv, HEADER true)"
)


def write_reference_csv(path: Path, rows: int, seed: float = MAIN_SEED) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SELECT setseed(?)", [seed])
    con.execute(
        f"""
        COPY (
            SELECT uuid() AS transaction_id,
                   1 + floor(random() * 999)::int AS user_id,
                   1 + floor(random() * 499)::int AS product_id,
                   strftime(TIMESTAMP '2024-01-01' + to_minutes(i), '%Y-%m-%d %H:%M:%S')
                       AS timestamp,
                   round(10 + random() * 990, 2)::decimal(10, 2) AS transaction_amount
            FROM range({int(rows)}) AS t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    return path


def reference_file(folder: Path, rows: int, seed: float) -> Path:
    """The reference's stress-test file of `rows` rows, generated once and kept in `folder`."""
    path = folder / f"reference-{rows}-seed{seed}.csv"
    if not path.exists():
        with step(f"generating {path.name} ({rows:,} rows, DuckDB)"):
            partial = path.with_name(f"{path.stem}.partial.csv")
            write_reference_csv(partial, rows, seed=seed)
            partial.replace(path)
    return path


if __name__ == "__main__":
    import sys

    write_reference_csv(Path(sys.argv[1]), int(sys.argv[2]))
